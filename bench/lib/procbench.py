#!/usr/bin/python3
"""Whole-process paired rounds: every round runs each command once, in an order
that rotates from round to round, and prints one JSON line per run with the
operating system's accounting of that process (os.wait4): wall time, user +
system CPU, peak RSS.  The report pairs the lines of one round.

  procbench.py SPEC.json
SPEC: {"workload": "cli_get", "rounds": 20, "warmup": 1,
       "commands": [{"contender": "...", "argv": [...], "env": {...}, "unset": [...]}, ...]}
A run's stdout and stderr go to /dev/null; a run that exits non-zero is
reported with "exit": status and stops the bench with status 1.
"""
import json
import os
import subprocess
import sys
import time


def run_once(argv, env):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, p.returncode


def command_env(c):
    env = dict(os.environ, **c.get("env", {}))
    for name in c.get("unset", []):
        env.pop(name, None)
    return env


def main():
    spec = json.load(open(sys.argv[1]))
    cmds = spec["commands"]
    failed = 0
    for c in cmds:  # warm-up: page cache, the server's first requests
        env = command_env(c)
        for _ in range(spec.get("warmup", 1)):
            run_once(c["argv"], env)
    for r in range(1, spec["rounds"] + 1):
        k = (r - 1) % len(cmds)
        for c in cmds[k:] + cmds[:k]:
            env = command_env(c)
            wall, cpu, rss, code = run_once(c["argv"], env)
            line = {"contender": c["contender"], "workload": spec["workload"], "round": r, "n": 1,
                    "total_s": wall, "mean_us": wall * 1e6, "cpu_s": cpu, "cpu_us": cpu * 1e6,
                    "peak_rss_kb": rss, "whole_process": True}
            if code != 0:
                line["exit"] = code
                failed += 1
            print(json.dumps(line), flush=True)
    sys.exit(1 if failed else 0)


main()
