/*
 * response.c - the Lua values of a transfer's outcome: res (status, body,
 * the one Content-Type, headers built on first access), or terr (libcurl's
 * code mapped to the transport contract's kinds, its message scrubbed of
 * proxy credentials); and the walk over a decoded JSON value that
 * konnect.accel offers (core.json_clean).  The C API reference is the comment
 * at the top of core.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ------------------------------------------------------------------ */
/* Error kinds and the curl code -> kind table                         */
/* ------------------------------------------------------------------ */

const char *const kc_kind_names[KC_NKINDS] = {
#define KC_KIND_NAME(id, name) name,
    KC_KINDS(KC_KIND_NAME)
#undef KC_KIND_NAME
};

/* Anything not listed here is KC_NETWORK (RECV_ERROR, SEND_ERROR,
 * GOT_NOTHING, PARTIAL_FILE, HTTP2, ...).  CURLE_WRITE_ERROR is too_large
 * only when our own cap flag says so; see kc_classify(). */
#define KC_CURL_ERRORS(X)                                  \
    X(CURLE_OPERATION_TIMEDOUT,        KC_TIMEOUT)         \
    X(CURLE_COULDNT_RESOLVE_HOST,      KC_CONNECT)         \
    X(CURLE_COULDNT_RESOLVE_PROXY,     KC_CONNECT)         \
    X(CURLE_COULDNT_CONNECT,           KC_CONNECT)         \
    X(CURLE_SSL_CONNECT_ERROR,         KC_TLS)             \
    X(CURLE_PEER_FAILED_VERIFICATION,  KC_TLS)             \
    X(CURLE_SSL_CACERT_BADFILE,        KC_TLS)             \
    X(CURLE_SSL_CERTPROBLEM,           KC_TLS)             \
    X(CURLE_SSL_CIPHER,                KC_TLS)             \
    X(CURLE_SSL_ISSUER_ERROR,          KC_TLS)             \
    X(CURLE_SSL_PINNEDPUBKEYNOTMATCH,  KC_TLS)             \
    X(CURLE_SSL_CRL_BADFILE,           KC_TLS)             \
    X(CURLE_SSL_SHUTDOWN_FAILED,       KC_TLS)             \
    X(CURLE_SSL_INVALIDCERTSTATUS,     KC_TLS)             \
    X(CURLE_SSL_ENGINE_NOTFOUND,       KC_TLS)             \
    X(CURLE_SSL_ENGINE_SETFAILED,      KC_TLS)             \
    X(CURLE_SSL_ENGINE_INITFAILED,     KC_TLS)             \
    X(CURLE_FILESIZE_EXCEEDED,         KC_TOO_LARGE)       \
    X(CURLE_OUT_OF_MEMORY,             KC_SYSTEM)          \
    X(CURLE_FAILED_INIT,               KC_SYSTEM)          \
    X(CURLE_UNSUPPORTED_PROTOCOL,      KC_INVALID_ARGUMENT) \
    X(CURLE_URL_MALFORMAT,             KC_INVALID_ARGUMENT)

static const struct {
    CURLcode code;
    kc_kind kind;
} kc_errmap[] = {
#define KC_ERR_ROW(code, kind) { code, kind },
    KC_CURL_ERRORS(KC_ERR_ROW)
#undef KC_ERR_ROW
};

/* ------------------------------------------------------------------ */
/* terr: a failed transfer                                             */
/* ------------------------------------------------------------------ */

/* Push terr = { kind, message, code, sent }. */
void kc_push_terr(lua_State *L, kc_kind kind, const char *msg,
                  int has_code, long code, int sent)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, kc_kind_names[kind]);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    if (has_code) {
        lua_pushinteger(L, (lua_Integer)code);
        lua_setfield(L, -2, "code");
    }
    lua_pushboolean(L, sent);
    lua_setfield(L, -2, "sent");
}

int kc_return_terr(lua_State *L, kc_kind kind, const char *msg)
{
    lua_pushnil(L);
    kc_push_terr(L, kind, msg, 0, 0, 0);
    return 2;
}

/* Did this transfer put its request on the wire?  The prereq callback fired
 * (counted in x->sends, reset by us before each transfer: the connection
 * was made and the request was about to be written).  Without that callback
 * (libcurl < 7.80), libcurl's request byte count, which it resets when a
 * transfer starts (a failure before that start leaves the previous one's). */
static int kc_request_went_out(const kc_xfer *x)
{
#if LIBCURL_VERSION_NUM >= 0x075000
    return x->sends > 0;
#else
    long reqsize = 0;
    curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &reqsize);
    return reqsize > 0;
#endif
}

/* libcurl keeps an unfinished response header line (the status line too) in
 * a buffer of its own, capped at CURL_MAX_HTTP_HEADER (100 KiB); a longer
 * line fails the transfer with CURLE_OUT_OF_MEMORY ("Avoided giant realloc
 * for header" before 7.69, no message of its own from 7.69 on, CURLE_TOO_LARGE
 * from 8.6).  Our 64 KiB head cap never sees that line, but such a line is a
 * head over it.  We call it that (too_large) only when all of these hold:
 *   - the code is one of those, and none of our own buffers failed (x->oom);
 *   - the request went out and a first response byte came back (libcurl's
 *     start-transfer time, reset per transfer, is set), and the final head
 *     had not ended (x->head_done): the failure happened while a response
 *     head was arriving;
 *   - libcurl's message does not say an allocation failed ("Failed to alloc
 *     memory for big header!": a genuine failure, in libcurl before 7.69).
 * Any other out-of-memory (before the answer, in the body, in our buffers)
 * stays system.  What remains ambiguous: a real allocation failure inside
 * libcurl while a head arrives (7.69 .. 8.5 give no message to tell them
 * apart); it is counted as too_large, which also fails the call, unretried. */
static int kc_head_overflow(const kc_xfer *x, CURLcode rc)
{
    curl_off_t start = 0;
    int code = rc == CURLE_OUT_OF_MEMORY;
#if LIBCURL_VERSION_NUM >= 0x080600
    code = code || rc == CURLE_TOO_LARGE;
#endif
    if (!code || x->oom || x->head_done || strstr(x->errbuf, "Failed to alloc") != NULL)
        return 0;
    if (!kc_request_went_out(x))
        return 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &start) != CURLE_OK)
        return 0;
    return start > 0;
}

static kc_kind kc_classify(const kc_xfer *x, CURLcode rc)
{
    size_t i;
    if (x->too_large != KC_FIT)
        return KC_TOO_LARGE;
    if (x->oom)
        return KC_SYSTEM;
    if (x->framing != NULL)
        return KC_NETWORK;
    /* invalid_argument is the caller's mistake only (another scheme in the
     * URL); once the request went out, an unsupported protocol is the
     * server's answer ("HTTP/1.1 abc", HTTP/0.9): bad framing */
    if (rc == CURLE_UNSUPPORTED_PROTOCOL && kc_request_went_out(x))
        return KC_NETWORK;
    for (i = 0; i < sizeof kc_errmap / sizeof kc_errmap[0]; i++)
        if (kc_errmap[i].code == rc)
            return kc_errmap[i].kind;
    return KC_NETWORK;
}

static int is_url_sep(char c)
{
    return c == '\0' || c == ' ' || c == '/' || c == '\'' || c == '"' ||
           c == '\t' || c == '(' || c == ')' || c == '<' || c == '>';
}

/* Push msg with the userinfo of any "scheme://user:pass@host" in it masked
 * (libcurl's messages may name a proxy URL: its credentials never leave). */
static void push_scrubbed(lua_State *L, const char *msg)
{
    luaL_Buffer b;
    const char *p = msg, *s;
    luaL_buffinit(L, &b);
    while ((s = strstr(p, "://")) != NULL) {
        const char *h = s + 3, *e = h, *at = NULL;
        while (!is_url_sep(*e)) {
            if (*e == '@')
                at = e;
            e++;
        }
        luaL_addlstring(&b, p, (size_t)(h - p));
        if (at != NULL) {
            luaL_addstring(&b, "***");
            h = at;
        }
        luaL_addlstring(&b, h, (size_t)(e - h));
        p = e;
    }
    luaL_addstring(&b, p);
    luaL_pushresult(&b);
}

static void push_curl_error(lua_State *L, kc_xfer *x, CURLcode rc)
{
    kc_kind kind;
    int sent = 1;
    size_t n;

    if (x->too_large == KC_FIT && kc_head_overflow(x, rc))
        x->too_large = KC_TOO_BIG_HEADERS;
    kind = kc_classify(x, rc);

    switch (kind) {
    case KC_CONNECT:
    case KC_TLS:
    case KC_INVALID_ARGUMENT:
        sent = 0;
        break;
    case KC_TIMEOUT:
    case KC_SYSTEM:
        /* Nothing went out unless the request was about to be written in
         * this transfer (see kc_request_went_out).  (A failing environment
         * after the request went out stays sent = true: a retry could
         * repeat a side effect.) */
        sent = kc_request_went_out(x);
        break;
    default:
        sent = 1;
    }

    n = strlen(x->errbuf);
    while (n > 0 && (x->errbuf[n - 1] == '\n' || x->errbuf[n - 1] == '\r'))
        x->errbuf[--n] = '\0';

    if (x->replay_blocked) {
        kind = KC_NETWORK;
        sent = 1;
        lua_pushliteral(L, "the connection closed before any response; the request "
                           "may have been processed, so it was not sent again");
    } else if (x->too_large == KC_TOO_BIG_HEADERS)
        lua_pushfstring(L, "response headers larger than %d bytes",
                        (int)KC_MAX_HEADER_BYTES);
    else if (kind == KC_TOO_LARGE)
        lua_pushfstring(L, "response body larger than max_body (%d bytes)",
                        (int)x->max_body);
    else if (x->oom)
        lua_pushliteral(L, "out of memory while reading the response");
    else if (x->framing != NULL)
        lua_pushstring(L, x->framing);
    else
        push_scrubbed(L, n > 0 ? x->errbuf : curl_easy_strerror(rc));
    kc_push_terr(L, kind, lua_tostring(L, -1), rc != CURLE_OK, (long)rc, sent);
    lua_remove(L, -2);
}


/* ------------------------------------------------------------------ */
/* res: the response table                                             */
/* ------------------------------------------------------------------ */

/* The response headers travel to Lua packed in one block (res.raw_head, a
 * userdata: a string would be interned, and LuaJIT's hash of a long string
 * samples a few bytes only, so heads that differ in their Date or request id
 * collide and every new one is compared with the dead ones): per header a
 * 4-byte name length, a 4-byte value length (native order), the name (lower
 * case) and the value.  res.headers, the { name = value } table (repeated
 * names joined with ", "), is built from it on first access (res's
 * metatable): the pipeline's success path needs only the content type
 * (res.content_type) and whether a rate-limit header came
 * (res.no_rate_limit), so most responses never build it. */
static void push_head(lua_State *L, const kc_xfer *x)
{
    size_t i, size = 0;
    char *p;
    for (i = 0; i < x->nhdrs; i++)
        size += 2 * sizeof(uint32_t) + x->hdrs[i].name_len + x->hdrs[i].value_len;
#if LUA_VERSION_NUM >= 504
    p = (char *)lua_newuserdatauv(L, size, 0);
#else
    p = (char *)lua_newuserdata(L, size);
#endif
    for (i = 0; i < x->nhdrs; i++) {
        const kc_hdr *h = &x->hdrs[i];
        uint32_t len[2];
        len[0] = (uint32_t)h->name_len;     /* the head is capped at 64 KiB */
        len[1] = (uint32_t)h->value_len;
        memcpy(p, len, sizeof len);
        p += sizeof len;
        memcpy(p, x->hdr.data + h->name, h->name_len);
        p += h->name_len;
        memcpy(p, x->hdr.data + h->value, h->value_len);
        p += h->value_len;
    }
    lua_pushvalue(L, KC_UV_HEAD);
    lua_setmetatable(L, -2);
}

/* Push res = { status, body, content_type (the one Content-Type; absent
 * when there are none or several), no_rate_limit (true: no RateLimit-* or
 * X-RateLimit-* header came), http_version, raw_head (see push_head), resent
 * (true when libcurl sent the request twice) } with res.headers built on
 * first access.  (Every field costs every response: none is here that the
 * pipeline does not read.) */
static void push_response(lua_State *L, kc_xfer *x)
{
    long status = 0, ver = CURL_HTTP_VERSION_NONE;
    const char *vs;
    size_t i;
    int rate_limit = 0, ctypes = 0;
    const kc_hdr *ctype = NULL;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &ver);
    switch (ver) {
    case CURL_HTTP_VERSION_1_0: vs = "1.0"; break;
    case CURL_HTTP_VERSION_1_1: vs = "1.1"; break;
    case CURL_HTTP_VERSION_2_0: vs = "2"; break;
    case CURL_HTTP_VERSION_3: vs = "3"; break;
    default: vs = NULL;
    }
    for (i = 0; i < x->nhdrs; i++) {
        const kc_hdr *h = &x->hdrs[i];
        const char *name = x->hdr.data + h->name;
        if (h->name_len == 12 && memcmp(name, "content-type", 12) == 0) {
            ctype = h;
            ctypes++;
        } else if (!rate_limit && ((h->name_len >= 9 && memcmp(name, "ratelimit", 9) == 0) ||
                                   (h->name_len >= 11 && memcmp(name, "x-ratelimit", 11) == 0))) {
            rate_limit = 1;
        }
    }
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, (lua_Integer)status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
    lua_setfield(L, -2, "body");
    if (ctypes == 1) {
        lua_pushlstring(L, x->hdr.data + ctype->value, ctype->value_len);
        lua_setfield(L, -2, "content_type");
    }
    if (!rate_limit) {
        /* konnect.meta.rate_limit would find nothing to read */
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "no_rate_limit");
    }
    if (vs != NULL) {
        lua_pushstring(L, vs);
        lua_setfield(L, -2, "http_version");
    }
    push_head(L, x);
    lua_setfield(L, -2, "raw_head");
    if (x->sends > 1) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "resent");
    }
    lua_pushvalue(L, KC_UV_RES);
    lua_setmetatable(L, -2);
}

/* Push the { name = value } table of a packed header string (a malformed
 * one yields the headers before the damage). */
static void push_unpacked(lua_State *L, const char *p, size_t n)
{
    const char *end = p + n;
    uint32_t len[2];
    lua_newtable(L);
    while ((size_t)(end - p) >= sizeof len) {
        memcpy(len, p, sizeof len);
        p += sizeof len;
        if (len[0] > (size_t)(end - p) || len[1] > (size_t)(end - p) - len[0])
            break;
        lua_pushlstring(L, p, len[0]);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, p + len[0], len[1]);
        } else {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, p + len[0], len[1]);
            lua_concat(L, 3);
        }
        lua_rawset(L, -3);
        p += len[0] + len[1];
    }
}

/* res's __index: res.headers, built once from res.raw_head (a raw_head
 * that is not our block gives no headers). */
static int res_index(lua_State *L)
{
    size_t n = 0;
    const char *p;
    if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "headers") != 0)
        return 0;
    lua_getfield(L, 1, "raw_head");
    p = (const char *)kc_to_udata(L, -1, KC_UV_HEAD);
    if (p != NULL)
        n = (size_t)kc_len(L, -1);
    push_unpacked(L, p ? p : "", n);
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "headers");     /* rawset: the field is absent */
    return 1;
}

/* Push a transfer's outcome: res on success (returns 1), terr otherwise
 * (returns 0). */
int kc_push_outcome(lua_State *L, kc_xfer *x, CURLcode rc)
{
    if (rc == CURLE_OK && x->too_large == KC_FIT && !x->oom) {
        if (x->head_done) {
            push_response(L, x);
            return 1;
        }
        /* libcurl (7.88) takes a connection closed after part of the head
         * for a complete answer: it is not one */
        x->framing = "the connection closed in the middle of the response headers";
    }
    push_curl_error(L, x, rc);
    return 0;
}


/* ------------------------------------------------------------------ */
/* The decoded-JSON walk (behind konnect.accel)                         */
/* ------------------------------------------------------------------ */

/* Remove every field of the table at t whose value equals the value at
 * null_idx, at any depth; on Lua 5.3+ also turn each float with an exact
 * integer value into that integer.  -1 when the stack cannot grow. */
static int clean_table(lua_State *L, int t, int null_idx, int depth)
{
    if (depth > KC_CLEAN_MAX_DEPTH || !lua_checkstack(L, 4))
        return -1;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        switch (lua_type(L, -1)) {
        case LUA_TTABLE:
            if (clean_table(L, lua_gettop(L), null_idx, depth + 1) != 0) {
                lua_pop(L, 2);
                return -1;
            }
            break;
#if LUA_VERSION_NUM >= 503
        case LUA_TNUMBER:
            if (!lua_isinteger(L, -1)) {
                int ok = 0;
                lua_Integer i = lua_tointegerx(L, -1, &ok);
                if (ok) {               /* an existing key: allowed while traversing */
                    lua_pushvalue(L, -2);
                    lua_pushinteger(L, i);
                    lua_rawset(L, t);
                }
            }
            break;
#endif
        case LUA_TLIGHTUSERDATA:
            if (lua_rawequal(L, -1, null_idx)) {
                lua_pushvalue(L, -2);   /* clearing a field while traversing is allowed */
                lua_pushnil(L);
                lua_rawset(L, t);
            }
            break;
        default:
            break;
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* core.json_clean(v, null) -> true: the walk over a decoded value that
 * konnect.accel offers (null fields removed at any depth, integral floats made
 * integers on Lua 5.3+), in place; false when it could not finish (the caller
 * walks in Lua, which gives the same result: the walk can be repeated). */
static int core_json_clean(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushboolean(L, lua_type(L, 1) != LUA_TTABLE || clean_table(L, 1, 2, 0) == 0);
    return 1;
}

static const luaL_Reg res_meta[] = {
    { "__index", res_index },
    { NULL, NULL }
};

static const luaL_Reg no_meta[] = {
    { NULL, NULL }
};

static const luaL_Reg response_funcs[] = {
    { "json_clean", core_json_clean },
    { NULL, NULL }
};

void kc_response_open_lib(lua_State *L, int lib, int uv)
{
    kc_new_class(L, uv, KC_RES_MT, res_meta, NULL);    /* __index is res_index */
    kc_new_class(L, uv, KC_HEAD_MT, no_meta, NULL);
    kc_add_funcs(L, lib, uv, response_funcs);
}
