#!/usr/bin/python3
"""Python contenders, one workload per process (environment as konnect_bench.lua).

  /usr/bin/python3 bench/python_bench.py requests get|cycle
      requests.Session (keep-alive pool; json() decode every response)
  /usr/bin/python3 bench/python_bench.py curl-cli get|cycle
      the `curl` command line, one process per request, as shell automation
      does it; the body is decoded with json.loads.  Spawned with
      subprocess.run (fork/exec, no shell); peak RSS is the largest curl
      process (RUSAGE_CHILDREN).
Prints one JSON line.
"""
import json
import os
import resource
import subprocess
import sys
import time


def env(name, default=None):
    v = os.environ.get(name)
    return v if v else default


def die(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(1)


def summarize(contender, workload, times, total, extra):
    times.sort()
    n = len(times)
    median = 0.0
    if n:
        median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2

    def pick(q):
        return times[int(q * (n - 1))] if n else 0.0

    r = {"contender": contender, "workload": workload, "n": n, "total_s": total,
         "median_us": median * 1e6, "p90_us": pick(0.90) * 1e6, "p99_us": pick(0.99) * 1e6}
    r.update(extra)
    return r


def main():
    kind, workload = sys.argv[1], sys.argv[2]
    base, user, token = env("BENCH_BASE"), env("BENCH_USER"), env("BENCH_TOKEN")
    if not (base and user and token):
        die("python_bench: BENCH_BASE, BENCH_USER and BENCH_TOKEN are required")
    ids = [i for i in env("BENCH_IDS", "").split(",") if i]
    n = int(float(env("BENCH_N", "1000")))
    warmup = int(float(env("BENCH_WARMUP", "50")))
    ca = env("BENCH_CA")
    label = env("BENCH_LABEL", workload)
    tokens_url = f"{base}/v3/users/{user}/access-tokens"
    auth = f"Bearer {token}"
    create_body = json.dumps({"name": "bench-cycle", "ttl_seconds": 86400})

    if kind == "requests":
        import requests
        contender = "Python requests"
        s = requests.Session()
        s.headers.update({"Authorization": auth, "Accept": "application/json"})
        verify = ca if ca else True

        def req(method, url, body=None):
            headers = {"Content-Type": "application/json"} if body is not None else None
            r = s.request(method, url, data=body, headers=headers, verify=verify)
            return r.status_code, (r.json() if r.content else None)
    elif kind == "curl-cli":
        contender = "curl CLI"
        base_cmd = ["curl", "-sS", "-H", f"Authorization: {auth}", "-H", "Accept: application/json"]
        if ca:
            base_cmd += ["--cacert", ca]

        def req(method, url, body=None):
            cmd = base_cmd + ["-X", method, "-w", "\n%{http_code}"]
            if body is not None:
                cmd += ["-H", "Content-Type: application/json", "--data-binary", body]
            p = subprocess.run(cmd + [url], capture_output=True, check=True)
            text, _, code = p.stdout.decode().rpartition("\n")
            return int(code), (json.loads(text) if text else None)
    else:
        die(f"python_bench: unknown contender {kind}")

    def one_get():
        status, v = req("GET", f"{tokens_url}/{ids[0]}")
        if status != 200 or v.get("id") != ids[0]:
            die(f"python_bench: bad get {status}")

    def one_cycle():
        status, v = req("POST", tokens_url, create_body)
        if status != 201:
            die(f"python_bench: bad create {status}")
        status, r = req("PATCH", f"{tokens_url}/{v['id']}/revoke")
        if status != 200 or r.get("state") != "REVOKED":
            die(f"python_bench: bad revoke {status}")
        status, _ = req("DELETE", f"{tokens_url}/{v['id']}")
        if status != 204:
            die(f"python_bench: bad delete {status}")

    fn = {"get": one_get, "cycle": one_cycle}.get(workload) or die(f"unknown workload {workload}")
    for _ in range(warmup):
        fn()
    times = []
    perf = time.perf_counter
    who = resource.RUSAGE_CHILDREN if kind == "curl-cli" else resource.RUSAGE_SELF

    def cpu():
        # client CPU: this process (requests) or the curl processes (curl CLI)
        ru = resource.getrusage(who)
        return ru.ru_utime + ru.ru_stime

    c0 = cpu()
    start = perf()
    for _ in range(n):
        t0 = perf()
        fn()
        times.append(perf() - t0)
    total = perf() - start
    cpu_s = cpu() - c0
    extra = {"cpu_s": cpu_s, "mean_us": total / n * 1e6 if n else 0, "cpu_us": cpu_s / n * 1e6 if n else 0,"requests_per_call": 3 if workload == "cycle" else 1,
             "peak_rss_kb": resource.getrusage(who).ru_maxrss}
    if kind == "curl-cli":
        extra["http_version"] = "new process + connection per request"
    print(json.dumps(summarize(contender, label, times, total, extra)), flush=True)


main()
