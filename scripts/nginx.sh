#!/usr/bin/env bash
# scripts/nginx.sh: the one way this project starts and stops a throwaway nginx
# (the fake Konnect, the nginx specs, the hostile suite, the OpenResty example,
# the core specs' static server, the benchmarks).
#
#   scripts/nginx.sh start [--conf REL] TEMPLATE DIR [NAME=VALUE ...]
#     Fills TEMPLATE into DIR/nginx.conf (or DIR/REL) and starts nginx with prefix DIR:
#       @DIR@ -> DIR   @ROOT@ -> the checkout   @USER_LINE@ -> "user root;" when root
#       @NAME@ -> VALUE for each NAME=VALUE argument
#       @…PORT@ (any placeholder ending in PORT) -> a free loopback port, one each
#     Retries with other ports when one is taken, waits until the first port
#     accepts connections, and prints shell lines:  PORT=… (one per placeholder)
#     and PID=… (the master).  `daemon on`, `pid DIR/nginx.pid` and `user root`
#     are added when the template does not say otherwise.
#   scripts/nginx.sh stop DIR
#     Stops that nginx (TERM, then KILL after 10 s, workers included); safe to
#     call twice or when nothing runs.
#   NGINX=/path/to/nginx overrides the binary.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NGINX=${NGINX:-nginx}
# nginx itself reads $NGINX (inherited listening sockets): never hand it ours
export -n NGINX

die() { echo "scripts/nginx.sh: $*" >&2; exit 1; }

master_pid() { # DIR -> the running master's pid, or status 1
  local f=$1/.nginx-master pid
  [ -f "$f" ] || return 1
  pid=$(tr -dc '0-9' < "$f" 2>/dev/null || true)
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  grep -q nginx "/proc/$pid/cmdline" 2>/dev/null || return 1 # a recycled pid is not ours
  echo "$pid"
}

do_stop() {
  local dir=$1 pid children c i
  pid=$(master_pid "$dir") || { rm -f "$dir/.nginx-master"; return 0; }
  children=$(pgrep -P "$pid" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  for c in $children; do
    for i in $(seq 1 30); do [ -d "/proc/$c" ] || break; sleep 0.1; done
    if [ -d "/proc/$c" ]; then kill -KILL "$c" 2>/dev/null || true; fi
  done
  rm -f "$dir/.nginx-master"
}

random_port() { echo $(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 )); }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

do_start() {
  local rel=nginx.conf
  if [ "${1:-}" = --conf ]; then rel=$2; shift 2; fi
  local template=$1 dir=$2; shift 2
  [ -f "$template" ] || die "no template $template"
  command -v "$NGINX" >/dev/null || die "nginx not found (apt-get install nginx-light libnginx-mod-http-lua)"
  mkdir -p "$dir/tmp" "$(dirname "$dir/$rel")"
  dir=$(cd "$dir" && pwd -P)
  local conf pair name value cfile=$dir/$rel
  conf=$(cat "$template")
  conf=${conf//@DIR@/$dir}
  conf=${conf//@ROOT@/$root}
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user root;"
  conf=${conf//@USER_LINE@/$user_line}
  for pair in "$@"; do
    name=${pair%%=*}; value=${pair#*=}
    conf=${conf//@$name@/$value}
  done
  local ports
  ports=$(grep -oE '@[A-Z0-9_]*PORT@' <<< "$conf" | sort -u | tr -d '@' || true)
  local globals=()
  grep -qE '^[[:space:]]*daemon[[:space:]]' <<< "$conf" || globals+=("daemon on;")
  grep -qE '^[[:space:]]*pid[[:space:]]' <<< "$conf" || globals+=("pid $dir/nginx.pid;")
  if [ "$(id -u)" = 0 ] && ! grep -qE '^[[:space:]]*user[[:space:]]' <<< "$conf"; then globals+=("user root;"); fi
  local args=(-p "$dir" -c "$cfile" -e "$dir/error.log")
  [ ${#globals[@]} -eq 0 ] || args+=(-g "${globals[*]}")

  local attempt filled p first pidfile pid out
  for attempt in $(seq 1 25); do
    filled=$conf; out=""; first=""
    local used=" "
    for name in $ports; do
      p=$(random_port)
      while [[ $used == *" $p "* ]] || port_busy "$p"; do p=$(random_port); done
      used="$used$p "
      filled=${filled//@$name@/$p}
      out="$out$name=$p"$'\n'
      [ -n "$first" ] || first=$p
    done
    printf '%s\n' "$filled" > "$cfile"
    : > "$dir/error.log"
    if env -u NGINX "$NGINX" "${args[@]}" > "$dir/start.log" 2>&1 9>&-; then
      pidfile=$(sed -nE 's/^[[:space:]]*pid[[:space:]]+([^;]+);.*/\1/p' "$cfile" | head -n 1)
      [ -n "$pidfile" ] || pidfile=$dir/nginx.pid
      case $pidfile in /*) ;; *) pidfile=$dir/$pidfile ;; esac
      pid=""
      for _ in $(seq 1 50); do
        pid=$(tr -dc '0-9' < "$pidfile" 2>/dev/null || true)
        [ -n "$pid" ] && break
        sleep 0.05
      done
      [ -n "$pid" ] || die "nginx started but wrote no pid file ($pidfile)"
      echo "$pid" > "$dir/.nginx-master"
      if [ -n "$first" ]; then
        for _ in $(seq 1 100); do port_busy "$first" && break; sleep 0.05; done
        port_busy "$first" || { do_stop "$dir"; tail -n 20 "$dir/error.log" >&2; die "nginx does not listen on $first"; }
      fi
      printf '%sPID=%s\n' "$out" "$pid"
      return 0
    fi
    grep -q "Address already in use" "$dir/start.log" "$dir/error.log" 2>/dev/null && continue
    cat "$dir/start.log" >&2; tail -n 20 "$dir/error.log" >&2 || true
    die "nginx failed to start ($cfile)"
  done
  die "no free ports after 25 attempts"
}

case ${1:-} in
  start) [ $# -ge 3 ] || die "usage: start [--conf REL] TEMPLATE DIR [NAME=VALUE ...]"; shift; do_start "$@" ;;
  stop) [ $# -eq 2 ] || die "usage: stop DIR"; [ -d "$2" ] || exit 0; do_stop "$2" ;;
  *) die "usage: scripts/nginx.sh start TEMPLATE DIR [NAME=VALUE ...] | stop DIR" ;;
esac
