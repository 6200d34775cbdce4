#!/usr/bin/env bash
# bench/lib/nginx_wrap.sh: what bench/run.sh hands fake_konnect/ctl as $NGINX.
# It starts the same nginx with two bench-side additions, leaving the fake's
# own files alone:
#   - a second access log, $DIR/conn.log, one line per request with nginx's
#     connection serial ($connection), so the bench counts the connections
#     (and TLS handshakes) each workload opened, on the server side;
#   - the server pinned to BENCH_SERVER_CPU (taskset), when set: the master
#     and its workers inherit the affinity.
# Arguments are nginx's own (ctl passes -p DIR -c CONF -e LOG).
set -euo pipefail
unset NGINX # nginx reads NGINX as a list of inherited sockets
conf="" prefix=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    -c) conf=${args[$((i + 1))]:-} ;;
    -p) prefix=${args[$((i + 1))]:-} ;;
  esac
done
if [ -n "$conf" ] && [ -f "$conf" ] && ! grep -q bench_conn "$conf"; then
  log="${prefix:-$(dirname "$conf")}/conn.log"
  # fields: connection serial, port, TLS protocol, session reused, HTTP protocol, status
  sed -i "0,/^[[:space:]]*http[[:space:]]*{/s||http {\n    log_format bench_conn '\$connection \$server_port \$ssl_protocol \$ssl_session_reused \$server_protocol \$status';\n    access_log $log bench_conn;|" "$conf"
fi
if [ -n "${BENCH_SERVER_CPU:-}" ] && command -v taskset >/dev/null; then
  exec taskset -c "$BENCH_SERVER_CPU" nginx "${args[@]}"
fi
exec nginx "${args[@]}"
