/*
 * conn.c - the options of core.new and core.multi, and the connection object
 * (one easy handle reused request after request, so keep-alive and TLS
 * sessions survive).  The C API reference is the comment at the top of core.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

const kc_str_opt kc_str_opts[KC_NSTR] = {
    { "ca_file",    CURLOPT_CAINFO,    1, CURLOPT_PROXY_CAINFO },
    { "ca_path",    CURLOPT_CAPATH,    1, CURLOPT_PROXY_CAPATH },
    { "proxy",      CURLOPT_PROXY,     0, CURLOPT_PROXY },
    { "user_agent", CURLOPT_USERAGENT, 0, CURLOPT_USERAGENT },
};

void kc_opts_free(kc_opts *o)
{
    int i;
    for (i = 0; i < KC_NSTR; i++) {
        free(o->str[i]);
        o->str[i] = NULL;
    }
}

static char *kc_strdup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Fill `o` from the options table at `idx`.  Returns 0, or with an error
 * message pushed 1 (a bad option) or 2 (out of memory). */
int kc_parse_opts(lua_State *L, int idx, kc_opts *o)
{
    o->timeout_ms = KC_DEFAULT_TIMEOUT_MS;
    o->connect_timeout_ms = KC_DEFAULT_CONNECT_MS;
    o->max_body = KC_DEFAULT_MAX_BODY;
    o->http_version = CURL_HTTP_VERSION_NONE;

    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx)) {
        lua_pushliteral(L, "options must be a table");
        return 1;
    }
    idx = kc_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *k;
        int i;
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pushliteral(L, "option names must be strings");
            return 1;
        }
        k = lua_tostring(L, -2);
        if (strcmp(k, "timeout") == 0) {
            if (!kc_seconds_to_ms(L, -1, &o->timeout_ms)) {
                lua_pushliteral(L, "option 'timeout' must be a number of seconds > 0 and <= 86400");
                return 1;
            }
        } else if (strcmp(k, "connect_timeout") == 0) {
            if (!kc_seconds_to_ms(L, -1, &o->connect_timeout_ms)) {
                lua_pushliteral(L, "option 'connect_timeout' must be a number of seconds > 0 "
                                   "and <= 86400");
                return 1;
            }
        } else if (strcmp(k, "max_body") == 0) {
            lua_Number v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
            if (!(v >= (lua_Number)KC_MIN_MAX_BODY && v <= (lua_Number)KC_MAX_MAX_BODY &&
                  v == floor(v))) {
                lua_pushliteral(L, "option 'max_body' must be a whole number of bytes "
                                   "from 1024 to 1 GiB");
                return 1;
            }
            o->max_body = (size_t)v;
        } else if (strcmp(k, "http_version") == 0) {
            const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
            if (strcmp(v, "1.1") == 0)
                o->http_version = CURL_HTTP_VERSION_1_1;
            else if (strcmp(v, "2") == 0)
                o->http_version = CURL_HTTP_VERSION_2TLS;
            else {
                lua_pushliteral(L, "option 'http_version' must be \"1.1\" or \"2\"");
                return 1;
            }
        } else {
            for (i = 0; i < KC_NSTR; i++)
                if (strcmp(k, kc_str_opts[i].name) == 0)
                    break;
            if (i == KC_NSTR) {
                lua_pushfstring(L, "unknown option '%s'", k);
                return 1;
            } else {
                size_t n;
                const char *s;
                if (lua_type(L, -1) != LUA_TSTRING) {
                    lua_pushfstring(L, "option '%s' must be a string", k);
                    return 1;
                }
                s = lua_tolstring(L, -1, &n);
                if (n == 0 || strlen(s) != n) {
                    lua_pushfstring(L, "option '%s' must be a non-empty string without NUL bytes", k);
                    return 1;
                }
                if (i == KC_S_USER_AGENT &&
                    (n > KC_MAX_HEADER_VALUE || kc_has_ctl(s, n, 1))) {
                    lua_pushfstring(L, "option '%s' must be at most %d bytes without control "
                                       "characters (CR, LF, NUL ...)", k, (int)KC_MAX_HEADER_VALUE);
                    return 1;
                }
                free(o->str[i]);
                o->str[i] = kc_strdup(s, n);
                if (o->str[i] == NULL) {
                    lua_pushliteral(L, "out of memory");
                    return 2;
                }
            }
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Per-request setup, shared by conn:request and m:request_many        */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Connection                                                          */
/* ------------------------------------------------------------------ */

static kc_conn *check_conn(lua_State *L, int idx)
{
    kc_conn *c = (kc_conn *)kc_to_udata(L, idx, KC_UV_CONN);
    return c != NULL ? c : (kc_conn *)luaL_checkudata(L, idx, KC_CONN_MT);   /* raises */
}

static int conn_close(lua_State *L)
{
    kc_conn *c = check_conn(L, 1);
    if (!c->closed) {
        c->closed = 1;
        kc_xfer_release(&c->x, c->gen == kc_generation());
        kc_opts_free(&c->opts);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int conn_tostring(lua_State *L)
{
    kc_conn *c = check_conn(L, 1);
    lua_pushfstring(L, KC_CONN_MT ": %p", (void *)c);
    return 1;
}

/* nil, message, kind */
int kc_return_fail(lua_State *L, const char *msg, kc_kind kind)
{
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, kc_kind_names[kind]);
    return 3;
}

/* core.new(opts) -> conn | nil, message, kind ("invalid_argument" for a bad
 * option, "system" when libcurl or memory fails) */
static int core_new(lua_State *L)
{
    kc_conn *c;
    const char *err;
    kc_kind kind;
    int bad;

    lua_settop(L, 1);
    c = (kc_conn *)lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    lua_pushvalue(L, KC_UV_CONN);
    lua_setmetatable(L, -2);            /* from here on __gc owns c */

    bad = kc_parse_opts(L, 1, &c->opts);
    if (bad != 0)
        return kc_return_fail(L, lua_tostring(L, -1), bad == 2 ? KC_SYSTEM : KC_INVALID_ARGUMENT);
    c->gen = kc_generation();
    err = kc_xfer_open(&c->x, &c->opts, 0, &kind);
    if (err != NULL)
        return kc_return_fail(L, err, kind);
    return 1;
}

/* conn:request(method, url, headers, body, once[, timeout]) -> res | nil, terr */
static int conn_request(lua_State *L)
{
    kc_conn *c = check_conn(L, 1);
    const char *err;
    kc_kind kind;
    CURLcode rc;
    int ok;

    lua_settop(L, 7);
    if (c->closed)
        return kc_return_terr(L, KC_INVALID_ARGUMENT, "connection is closed");
    if (c->gen != kc_generation() || c->x.easy == NULL) {
        /* Forked since the handle was made: abandon it (see kc_xfer_release)
         * and build a fresh one with the same options in this process.
         * (easy == NULL: an earlier rebuild failed; try again.) */
        kc_xfer_release(&c->x, 0);
        c->gen = kc_generation();
        err = kc_xfer_open(&c->x, &c->opts, 0, &kind);
        if (err != NULL)
            return kc_return_terr(L, kind, err);
    }
    err = kc_xfer_prepare(L, &c->x, 2, 3, 4, 5, 6, 7, &kind);
    if (err != NULL)
        return kc_return_terr(L, kind, err);

    rc = curl_easy_perform(c->x.easy);
    ok = kc_push_outcome(L, &c->x, rc);
    kc_xfer_finish(&c->x);
    if (ok)
        return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static const luaL_Reg conn_methods[] = {
    { "request", conn_request },
    { "close",   conn_close },
    { NULL, NULL }
};

static const luaL_Reg conn_meta[] = {
    { "__gc",       conn_close },
    { "__close",    conn_close },
    { "__tostring", conn_tostring },
    { NULL, NULL }
};

static const luaL_Reg conn_funcs[] = {
    { "new", core_new },
    { NULL, NULL }
};

void kc_conn_open_lib(lua_State *L, int lib, int uv)
{
    kc_new_class(L, uv, KC_CONN_MT, conn_meta, conn_methods);
    kc_add_funcs(L, lib, uv, conn_funcs);
}
