/* benchclock: a monotonic clock, the process CPU time and /proc RSS readers for the Lua harnesses.
 * Same clock for every Lua contender, independent of konnect.core.
 * Built by bench/run.sh for Lua 5.4 and LuaJIT (only API common to 5.1 and 5.4). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <lua.h>
#include <lauxlib.h>

int luaopen_benchclock(lua_State *L);

static int l_monotime(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* cpu() -> user + system CPU seconds of this process so far (getrusage) */
static int l_cpu(lua_State *L)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    lua_pushnumber(L, (lua_Number)ru.ru_utime.tv_sec + (lua_Number)ru.ru_utime.tv_usec / 1e6 +
                      (lua_Number)ru.ru_stime.tv_sec + (lua_Number)ru.ru_stime.tv_usec / 1e6);
    return 1;
}

/* status_kb("VmRSS") -> kB from /proc/self/status */
static int l_status_kb(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    size_t klen = strlen(key);
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            sscanf(line + klen + 1, "%ld", &kb);
            break;
        }
    }
    fclose(f);
    if (kb < 0) return 0;
    lua_pushnumber(L, (lua_Number)kb);
    return 1;
}

int luaopen_benchclock(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, l_monotime);
    lua_setfield(L, -2, "monotime");
    lua_pushcfunction(L, l_cpu);
    lua_setfield(L, -2, "cpu");
    lua_pushcfunction(L, l_status_kb);
    lua_setfield(L, -2, "status_kb");
    return 1;
}
