/*
 * konnect.core - the libcurl layer of lua-konnect.  This comment is the one
 * reference of its C API (HACKING.md points here).
 *
 * Connections (conn.c): one libcurl easy handle reused request after request,
 * so keep-alive and TLS sessions are kept.
 *   core.new(opts) -> conn | nil, message, kind
 *       opts = { timeout = seconds, connect_timeout = seconds, ca_file =,
 *                ca_path =, proxy = URL, user_agent =, max_body = bytes,
 *                http_version = "1.1" | "2" }     (every field optional)
 *   conn:request(method, url, headers, body|nil, once[, timeout])
 *       -> res | nil, terr
 *       headers: an array { "Name: value", ... } or a list from core.headers
 *       res  = { status, body, headers, content_type, no_rate_limit,
 *                http_version, resent, raw_head }:
 *              headers   { lower-case name = value }, repeated names joined
 *                        with ", "; built on first access from raw_head (the
 *                        packed head, a userdata; see response.c)
 *              content_type   the one Content-Type value (absent when there
 *                        are none or several: read headers then)
 *              no_rate_limit  true when no RateLimit-* / X-RateLimit-*
 *                        header came (absent otherwise)
 *              http_version   "1.0", "1.1", "2" or "3"
 *              resent    true when libcurl sent the request twice (a
 *                        kept-alive connection died before any answer)
 *       terr = { kind, message, code (libcurl's, when it has one), sent }
 *   conn:close()          also __gc and __close; idempotent
 *
 * Batches (multi.c): libcurl's multi interface, HTTP/2 multiplexing where
 * the server offers it.
 *   core.multi(opts) -> m | nil, message, kind          (opts as core.new)
 *   m:request_many(items, concurrency) -> results
 *       item = { method, url, headers, body, once[, timeout] }
 *       results[i] = res | terr, in input order; concurrency 1 .. 256
 *   m:close()             also __gc and __close; idempotent
 *
 * Request headers (xfer.c)
 *   core.headers({ "Name: value", ... }) -> h | nil, message, kind: a header
 *       list built and checked once, passed instead of the array request
 *       after request
 *
 * Helpers behind konnect.accel, pure Lua values (response.c, search.c)
 *   core.json_clean(v, null) -> ok: JSON nulls (the value `null`) removed
 *       at any depth of the table v, in place; on Lua 5.3+ integral floats
 *       made integers; false when it could not finish (the caller walks in
 *       Lua: the walk can be repeated)
 *   core.needles(list) -> set: the strings of an array, packed once
 *   core.find_any(s, set) -> whether s contains any of them (plain bytes);
 *       true when s is not a string, set is not a set, or the list held
 *       anything but non-empty strings (the caller then looks closer)
 *
 * The secret file (fs.c; its own comment tells how)
 *   core.secret_file(path, replace) -> sf | nil, message, errno_name
 *   sf:commit(data) -> true | nil, message, errno_name; sf:abort(); sf:close()
 *   core.file_mode(path) -> permission bits | nil, message, errno_name
 *   core.isatty(fd) -> boolean (fd 0, 1 or 2 of this process is a terminal)
 *
 * The rest (this file)
 *   core.version() -> "konnect.core libcurl/x.y.z" (the library's own version
 *       lives in lua/konnect/limits.lua), core.curl_version() -> "libcurl/x.y.z"
 *   core.sleep(seconds)   blocks the thread (outside nginx only)
 *   core.monotime() -> seconds (CLOCK_MONOTONIC)
 *
 * kind (core.new, core.multi, core.headers): "invalid_argument" (a bad option
 * or argument of the caller) or "system" (libcurl could not be initialised,
 * memory ran out).  A request's terr kinds are those of the transport
 * contract (HACKING.md): timeout, connect, tls, network, too_large,
 * invalid_argument, system.  A server's broken framing is "network", as in
 * the cosocket transport (a bad status line or HTTP/0.9, differing
 * Content-Length values, a connection closed inside the head); a response
 * head over 64 KiB is "too_large" (also one line that libcurl itself refuses
 * to buffer, see kc_head_overflow in response.c).  `timeout` (seconds)
 * overrides the options' attempt timeout for that request only.  The caps
 * agree with konnect.limits (core.h; spec/limits_spec.lua feeds both sides the
 * same cases).  No proxy unless the `proxy` option names one: http_proxy,
 * ALL_PROXY ... in the environment are never consulted here.
 *
 * Replays: libcurl by itself sends a request again on a fresh connection when
 * a reused one died before any answer.  For a non-idempotent request that may
 * duplicate a side effect (a second token minted), so `once` (request's 5th
 * argument, an item's 5th field) forbids it: the transfer then fails with
 * kind "network", sent = true.  Otherwise a replayed request says so with
 * res.resent = true, for the caller's own bookkeeping.
 *
 * Ground rules:
 *   - no Lua API call inside a libcurl callback: callbacks append to C
 *     buffers owned by the userdata, Lua values are built after the transfer;
 *   - every allocation hangs off a userdata, so __gc reclaims it even when a
 *     Lua error unwinds through us;
 *   - runtime failures (including bad argument types for request) return
 *     nil, terr; only a wrong `self` raises;
 *   - curl_global_init happens lazily in the process that makes a handle,
 *     never curl_global_cleanup;
 *   - a handle created in another process (before a fork) is never used or
 *     cleaned up in this one;
 *   - one exported symbol, luaopen_konnect_core; what the files share is
 *     declared hidden in core.h.  The module is linked normally: a build for
 *     another Lua fails at require (an undefined symbol), never later.
 *
 * Files: core.h lists what each file holds.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

#include "core.h"
#include "fs.h"

/* ------------------------------------------------------------------ */
/* libcurl's global state, fork detection                              */
/* ------------------------------------------------------------------ */

static int kc_curl_ready = 0;

/* Fork detection without a getpid() per request: a child handler bumps the
 * generation; an object remembers the generation that created its handles.
 * (glibc drops the handler again when this library is unloaded.) */
static volatile unsigned kc_fork_gen = 0;
static int kc_atfork_set = 0;

static void kc_atfork_child(void)
{
    kc_fork_gen++;
}

/* The current generation (the pid if the handler could not be set). */
unsigned kc_generation(void)
{
    return kc_atfork_set ? kc_fork_gen : (unsigned)getpid();
}

/* curl_global_init in the process that first needs it (not at luaopen:
 * nginx forks its workers after init_by_lua). */
int kc_curl_stale_prevhead = 0;

CURLcode kc_global_init(void)
{
    CURLcode rc;
    const curl_version_info_data *v;
    if (kc_curl_ready)
        return CURLE_OK;
    rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc == CURLE_OK) {
        kc_curl_ready = 1;
        v = curl_version_info(CURLVERSION_NOW); /* (a static struct, never NULL) */
        kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;
    }
    return rc;
}

const char *kc_default_user_agent(void)
{
    static char ua[96];
    if (ua[0] == '\0') {
        const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
        const char *cv = vi && vi->version ? vi->version : "unknown";
        size_t n = strlen(cv);
        const char prefix[] = "konnect.core libcurl/";
        if (n > sizeof ua - sizeof prefix)
            n = sizeof ua - sizeof prefix;
        memcpy(ua, prefix, sizeof prefix - 1);
        memcpy(ua + sizeof prefix - 1, cv, n);
        ua[sizeof prefix - 1 + n] = '\0';
    }
    return ua;
}

/* ------------------------------------------------------------------ */
/* Shared Lua helpers                                                  */
/* ------------------------------------------------------------------ */

void kc_add_funcs(lua_State *L, int t, int uv, const luaL_Reg *l)
{
    int i;
    lua_pushvalue(L, t);
    for (i = 0; i < KC_NUV; i++)
        lua_pushvalue(L, uv + i);
    kc_setfuncs(L, l, KC_NUV);
    lua_pop(L, 1);
}

void kc_new_class(lua_State *L, int uv, const char *name, const luaL_Reg *meta,
                  const luaL_Reg *methods)
{
    int mt;
    luaL_newmetatable(L, name);             /* made by luaopen: fetched */
    mt = lua_gettop(L);
    lua_pushstring(L, name);
    lua_setfield(L, mt, "__name");
    kc_add_funcs(L, mt, uv, meta);
    if (methods != NULL) {
        lua_newtable(L);
        kc_add_funcs(L, lua_gettop(L), uv, methods);
        lua_setfield(L, mt, "__index");
    }
    lua_pop(L, 1);
}

void *kc_to_udata(lua_State *L, int idx, int mt)
{
    void *p = NULL;
    if (lua_type(L, idx) == LUA_TUSERDATA && lua_getmetatable(L, idx)) {
        if (lua_rawequal(L, -1, mt))
            p = lua_touserdata(L, idx < 0 && idx > LUA_REGISTRYINDEX ? idx - 1 : idx);
        lua_pop(L, 1);
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* The rest of the module                                              */
/* ------------------------------------------------------------------ */

static int core_version(lua_State *L)
{
    lua_pushstring(L, kc_default_user_agent());
    return 1;
}

/* "libcurl/7.88.1".  Not curl_version(): that one also asks every backend
 * for its version, which initialises OpenLDAP/SASL globals for good. */
static int core_curl_version(lua_State *L)
{
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    lua_pushfstring(L, "libcurl/%s", vi && vi->version ? vi->version : "unknown");
    return 1;
}

/* core.sleep(seconds): block this thread (outside nginx only). */
static int core_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    struct timespec ts;
    if (!(s > 0))
        return 0;
    if (s > KC_MAX_TIMEOUT_S)
        s = KC_MAX_TIMEOUT_S;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

/* core.monotime() -> seconds from an arbitrary origin, never going back. */
static int core_monotime(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static const luaL_Reg core_funcs[] = {
    { "version",      core_version },
    { "curl_version", core_curl_version },
    { "sleep",        core_sleep },
    { "monotime",     core_monotime },
    { NULL, NULL }
};

LUALIB_API int luaopen_konnect_core(lua_State *L);

static const char *const kc_uv_names[KC_NUV] = {
#define KC_UV_NAME(id, name) name,
    KC_UPVALUES(KC_UV_NAME)
#undef KC_UV_NAME
};

LUALIB_API int luaopen_konnect_core(lua_State *L)
{
    int lib, uv, i;
    lua_createtable(L, 0, 16);
    lib = lua_gettop(L);
    uv = lib + 1;
    for (i = 0; i < KC_NUV; i++)        /* the shared metatables (upvalues) */
        luaL_newmetatable(L, kc_uv_names[i]);
    kc_add_funcs(L, lib, uv, core_funcs);
    kc_conn_open_lib(L, lib, uv);
    kc_multi_open_lib(L, lib, uv);
    kc_xfer_open_lib(L, lib, uv);
    kc_response_open_lib(L, lib, uv);
    kc_search_open_lib(L, lib, uv);
    lua_settop(L, lib);
    kc_fs_register(L);
    if (!kc_atfork_set && pthread_atfork(NULL, NULL, kc_atfork_child) == 0)
        kc_atfork_set = 1;
    return 1;
}
