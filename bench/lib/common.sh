# Shell helpers shared by bench/run.sh and bench/profile.sh (sourced; expects
# $root, the checkout, and $RUN, the working directory, to be set).

lua_env() { # 5.4|jit -> LUA_ENV: env assignments for that interpreter
  local p="$root/bench/lib/?.lua;$root/lua/?.lua;$root/lua/?/init.lua;;"
  local c="$RUN/lib/$1/?.so;$root/build/$1/?.so;;"
  LUA_ENV=("LUA_PATH=$p" "LUA_PATH_5_4=$p" "LUA_CPATH=$c" "LUA_CPATH_5_4=$c" "LUA_INIT=" "LUA_INIT_5_4=")
}

# Stop our fake Konnect.  If `ctl stop` does not finish in time (its lock is
# held), stop the nginx it started with the one helper, bypassing the lock.
stop_server() {
  [ -d "$RUN/fake" ] || return 0
  timeout 15 fake_konnect/ctl stop --dir "$RUN/fake" >/dev/null 2>&1 && return 0
  echo "bench: fake_konnect/ctl stop timed out; stopping its nginx with scripts/nginx.sh" >&2
  "$root/scripts/nginx.sh" stop "$RUN/fake"
}
