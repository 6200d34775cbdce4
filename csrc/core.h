/*
 * core.h - what the files of konnect.core share (never installed; the C API
 * reference is the comment at the top of core.c).
 *
 *   core.c      the module: luaopen_konnect_core, libcurl's global init and
 *               fork detection, version, sleep, monotime
 *   xfer.c      one transfer: buffers, libcurl callbacks, the easy handle's
 *               fixed options, per-request setup, request header lists
 *               (core.headers)
 *   conn.c      options parsing, core.new and the connection methods
 *   multi.c     core.multi and m:request_many
 *   response.c  Lua values of an outcome: res (headers built on first
 *               access), terr (curl code -> kind), and the decoded-JSON walk
 *               (core.json_clean)
 *   search.c    the secret search (core.needles, core.find_any)
 *   fs.c        the secret file (core.secret_file)
 *   compat.h    the Lua 5.1 / LuaJIT shims
 *
 * Everything declared here is hidden: the one exported symbol is
 * luaopen_konnect_core.
 */
#ifndef KONNECT_CORE_H
#define KONNECT_CORE_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "compat.h"

#if defined(__GNUC__)
#define KC_HIDDEN __attribute__((visibility("hidden")))
#else
#define KC_HIDDEN
#endif

#if LIBCURL_VERSION_NUM < 0x074200
#error "konnect.core needs libcurl >= 7.66.0 (curl_multi_poll)"
#endif

#define KC_CONN_MT          "konnect.core.Connection"
#define KC_MULTI_MT         "konnect.core.Multi"
#define KC_HEADERS_MT       "konnect.core.Headers"
#define KC_RES_MT           "konnect.core.Response"
#define KC_HEAD_MT          "konnect.core.Head"
#define KC_NEEDLES_MT       "konnect.core.Needles"

/* Caps and defaults.  Each is konnect.limits' number ("= limits.NAME"), or
 * exists only here ("C only", with the rule it keeps), and
 * spec/limits_spec.lua reads this block: it holds every "= limits" define to
 * that number and each C-only one to its rule (HACKING.md, "Caps"). */
#define KC_DEFAULT_MAX_BODY    ((size_t)4 * 1024 * 1024)    /* = limits.MAX_BODY */
#define KC_MAX_MAX_BODY        ((size_t)1024 * 1024 * 1024) /* = limits.MAX_BODY_MAX */
#define KC_MIN_MAX_BODY        ((size_t)1024)               /* = limits.MAX_BODY_MIN */
#define KC_MAX_HEADER_BYTES    ((size_t)64 * 1024)          /* = limits.MAX_HEADER_BYTES */
#define KC_MAX_HEADER_VALUE    ((size_t)8 * 1024)           /* = limits.MAX_HEADER_VALUE */
#define KC_MAX_HEADER_NAME     ((size_t)256)                /* = limits.MAX_HEADER_NAME */
#define KC_DEFAULT_TIMEOUT_MS  30000L                       /* = limits.TIMEOUT * 1000 */
#define KC_DEFAULT_CONNECT_MS  10000L                       /* = limits.CONNECT_TIMEOUT * 1000 */
#define KC_MAX_TIMEOUT_S       86400.0                      /* = limits.MAX_TIMEOUT */
#define KC_DEFAULT_CONCURRENCY 8                            /* = limits.BATCH_CONCURRENCY */
#define KC_MAX_CONCURRENCY     256                          /* = limits.BATCH_MAX_CONCURRENCY */
/* the longest method name a request takes: only a caller of konnect.core
 * itself can meet it (the operation table's methods are shorter) */
#define KC_MAX_METHOD_LEN      32                           /* C only: >= every op.method */
/* a response buffer larger than this is freed after its transfer: memory the
 * Lua side never sees */
#define KC_BUF_KEEP            ((size_t)256 * 1024)         /* C only: >= limits.MAX_HEADER_BYTES */
/* the C null walk's recursion: deeper than any document konnect.json
 * decodes; past it, the Lua walk finishes the job */
#define KC_CLEAN_MAX_DEPTH     200                          /* C only: > limits.JSON_MAX_DEPTH */

/* ------------------------------------------------------------------ */
/* Error kinds (the transport contract's terr.kind)                    */
/* ------------------------------------------------------------------ */

#define KC_KINDS(X)                               \
    X(KC_TIMEOUT,          "timeout")             \
    X(KC_CONNECT,          "connect")             \
    X(KC_TLS,              "tls")                 \
    X(KC_NETWORK,          "network")             \
    X(KC_TOO_LARGE,        "too_large")           \
    X(KC_INVALID_ARGUMENT, "invalid_argument")    \
    X(KC_SYSTEM,           "system")

typedef enum {
#define KC_KIND_ENUM(id, name) id,
    KC_KINDS(KC_KIND_ENUM)
#undef KC_KIND_ENUM
    KC_NKINDS
} kc_kind;

KC_HIDDEN extern const char *const kc_kind_names[KC_NKINDS];

/* ------------------------------------------------------------------ */
/* Options, buffers, transfers, and the two handle objects             */
/* ------------------------------------------------------------------ */

enum { KC_S_CA_FILE, KC_S_CA_PATH, KC_S_PROXY, KC_S_USER_AGENT, KC_NSTR };

/* String options: the Lua name, the libcurl option, and the matching
 * option for an HTTPS proxy (so the same trust store applies to it). */
typedef struct {
    const char *name;
    CURLoption opt;
    int has_proxy_opt;
    CURLoption proxy_opt;
} kc_str_opt;

KC_HIDDEN extern const kc_str_opt kc_str_opts[KC_NSTR];

typedef struct {
    long timeout_ms;
    long connect_timeout_ms;
    size_t max_body;
    long http_version;          /* CURL_HTTP_VERSION_NONE: libcurl's default */
    char *str[KC_NSTR];         /* owned copies (kept to rebuild after fork) */
} kc_opts;

typedef struct {
    char *data;
    size_t len, cap;
} kc_buf;

/* One response header: offsets into kc_xfer.hdr (name already lowercased). */
typedef struct {
    size_t name, name_len, value, value_len;
} kc_hdr;

enum { KC_FIT = 0, KC_TOO_BIG_BODY = 1, KC_TOO_BIG_HEADERS = 2 };

/* What the handle was last set up for (only what changes is set again). */
enum { KC_M_NONE = 0, KC_M_GET, KC_M_HEAD, KC_M_FIELDS, KC_M_CUSTOM };

/* Everything one libcurl easy handle needs; owned by a userdata. */
typedef struct {
    CURL *easy;
    struct curl_slist *slist;   /* request headers of the current transfer */
    kc_buf body;                /* response body */
    kc_buf hdr;                 /* response header bytes (last block only) */
    kc_hdr *hdrs;
    size_t nhdrs, hdrs_cap;
    size_t max_body;
    size_t head_bytes;          /* response head bytes seen in this transfer */
    int too_large;              /* KC_TOO_BIG_* set by a callback */
    int oom;                    /* a callback ran out of memory */
    const char *framing;        /* the response's framing is broken: why
                                   (a static message; kind network) */
    /* the header block being read (reset by each status line) */
    int head_done;              /* the final head's blank line was seen */
    int status;                 /* its status code (0: unparseable) */
    int has_te;                 /* it has a Transfer-Encoding */
    int cl_bad;                 /* its Content-Length values are not one number */
    size_t cl_first, cl_first_len;  /* the first Content-Length number (in hdr) */
    int once;                   /* the request must not be replayed */
    int sends;                  /* times libcurl sent it in this transfer */
    int replay_blocked;         /* a replay was refused (see `once`) */
    int attached;               /* multi: added to the CURLM */
    int used;                   /* the handle has been set up for a transfer */
    CURLSH *share;              /* conn only, where kc_curl_stale_prevhead:
                                   the connection, DNS and TLS session caches
                                   that outlive each duplicated handle */
    int index;                  /* multi: position in the current batch */
    /* the handle's current per-request settings */
    int mstate;                 /* KC_M_* */
    int may_pipewait;           /* multi, and HTTP/2 allowed */
    int pipewait;               /* CURLOPT_PIPEWAIT as set now */
    char mcustom[KC_MAX_METHOD_LEN + 1];   /* CUSTOMREQUEST, "" if none */
    long timeout_ms;            /* the options' attempt timeout */
    long cur_timeout_ms;        /* CURLOPT_TIMEOUT_MS as set now */
    const struct curl_slist *cur_hdrs;     /* CURLOPT_HTTPHEADER as set now */
    char *url;                  /* CURLOPT_URL as set now (our copy) */
    size_t url_len, url_cap;
    char errbuf[CURL_ERROR_SIZE];
} kc_xfer;

typedef struct {
    kc_opts opts;
    kc_xfer x;
    unsigned gen;               /* fork generation that created x.easy */
    int closed;
} kc_conn;

typedef struct {
    kc_opts opts;
    CURLM *multi;
    kc_xfer **pool;             /* each xfer separately allocated: curl keeps
                                   pointers to it (errbuf, callback data) */
    int npool;
    int conc;                   /* connection limits set for this concurrency */
    unsigned gen;               /* fork generation that made multi and pool */
    int closed;
} kc_multi;

/* ------------------------------------------------------------------ */
/* core.c                                                              */
/* ------------------------------------------------------------------ */

/* curl_global_init in the process that first needs it */
KC_HIDDEN CURLcode kc_global_init(void);
/* Set by kc_global_init: the running libcurl (7.83.0 up to 8.0.1; Debian 12
 * has 7.88.1) keeps its headers store's pointer to the previous transfer's
 * last header after freeing it, and a response whose first header line is
 * folded then writes into freed memory: a double free (curl issue 11101,
 * fixed in 8.1.0 by curl PR 11103).  Each transfer then gets a fresh
 * duplicate of the handle (kc_xfer_prepare); a duplicate inherits no share
 * (curl_easy_duphandle(3)), so conn's handles are given theirs again. */
KC_HIDDEN extern int kc_curl_stale_prevhead;
/* the fork generation: an object made in another one is never used here */
KC_HIDDEN unsigned kc_generation(void);
/* "konnect.core libcurl/x.y.z" */
KC_HIDDEN const char *kc_default_user_agent(void);
/* Every function of the module (methods and metamethods too) carries the
 * module's metatables as upvalues, in this order, so that checking or
 * setting one costs no registry lookup by name.  luaopen_konnect_core puts
 * them on the stack at `uv` (an absolute index) while the files register. */
#define KC_UPVALUES(X)                  \
    X(KC_UV_CONN,    KC_CONN_MT)        \
    X(KC_UV_MULTI,   KC_MULTI_MT)       \
    X(KC_UV_HEADERS, KC_HEADERS_MT)     \
    X(KC_UV_RES,     KC_RES_MT)         \
    X(KC_UV_HEAD,    KC_HEAD_MT)        \
    X(KC_UV_NEEDLES, KC_NEEDLES_MT)

enum {
#define KC_UV_ENUM(id, name) id##_N,
    KC_UPVALUES(KC_UV_ENUM)
#undef KC_UV_ENUM
    KC_NUV
};
#define KC_UV_CONN      lua_upvalueindex(KC_UV_CONN_N + 1)
#define KC_UV_MULTI     lua_upvalueindex(KC_UV_MULTI_N + 1)
#define KC_UV_HEADERS   lua_upvalueindex(KC_UV_HEADERS_N + 1)
#define KC_UV_RES       lua_upvalueindex(KC_UV_RES_N + 1)
#define KC_UV_HEAD      lua_upvalueindex(KC_UV_HEAD_N + 1)
#define KC_UV_NEEDLES   lua_upvalueindex(KC_UV_NEEDLES_N + 1)

/* add the functions of `l` to the table at t, each with the upvalues at uv */
KC_HIDDEN void kc_add_funcs(lua_State *L, int t, int uv, const luaL_Reg *l);
/* fill the metatable `name` (one of KC_UPVALUES): __name, `meta`, and
 * `methods` in __index */
KC_HIDDEN void kc_new_class(lua_State *L, int uv, const char *name, const luaL_Reg *meta,
                            const luaL_Reg *methods);
/* the userdata at idx if its metatable is the upvalue `mt` (KC_UV_*), else
 * NULL (never raises) */
KC_HIDDEN void *kc_to_udata(lua_State *L, int idx, int mt);

/* ------------------------------------------------------------------ */
/* xfer.c                                                              */
/* ------------------------------------------------------------------ */

KC_HIDDEN int kc_has_ctl(const char *s, size_t n, int allow_space);
KC_HIDDEN int kc_seconds_to_ms(lua_State *L, int idx, long *ms);
KC_HIDDEN const char *kc_xfer_open(kc_xfer *x, const kc_opts *o, int in_multi, kc_kind *kind);
KC_HIDDEN void kc_xfer_release(kc_xfer *x, int ours);
KC_HIDDEN void kc_xfer_finish(kc_xfer *x);
KC_HIDDEN const char *kc_xfer_prepare(lua_State *L, kc_xfer *x, int mi, int ui, int hi,
                                      int bi, int oi, int ti, kc_kind *kind);
/* core.headers and the Headers class into the module table at lib */
KC_HIDDEN void kc_xfer_open_lib(lua_State *L, int lib, int uv);

/* ------------------------------------------------------------------ */
/* conn.c                                                              */
/* ------------------------------------------------------------------ */

KC_HIDDEN int kc_parse_opts(lua_State *L, int idx, kc_opts *o);
KC_HIDDEN void kc_opts_free(kc_opts *o);
/* nil, message, kind */
KC_HIDDEN int kc_return_fail(lua_State *L, const char *msg, kc_kind kind);
/* core.new and the Connection class */
KC_HIDDEN void kc_conn_open_lib(lua_State *L, int lib, int uv);

/* ------------------------------------------------------------------ */
/* multi.c                                                             */
/* ------------------------------------------------------------------ */

/* core.multi and the Multi class */
KC_HIDDEN void kc_multi_open_lib(lua_State *L, int lib, int uv);

/* ------------------------------------------------------------------ */
/* response.c                                                          */
/* ------------------------------------------------------------------ */

/* push terr = { kind, message, code, sent } */
KC_HIDDEN void kc_push_terr(lua_State *L, kc_kind kind, const char *msg,
                            int has_code, long code, int sent);
/* nil, terr (sent = false) */
KC_HIDDEN int kc_return_terr(lua_State *L, kc_kind kind, const char *msg);
/* push res (returns 1) or terr (returns 0) for a finished transfer */
KC_HIDDEN int kc_push_outcome(lua_State *L, kc_xfer *x, CURLcode rc);
/* core.json_clean and the Response and Head classes */
KC_HIDDEN void kc_response_open_lib(lua_State *L, int lib, int uv);

/* ------------------------------------------------------------------ */
/* search.c                                                            */
/* ------------------------------------------------------------------ */

/* core.needles, core.find_any and the Needles class */
KC_HIDDEN void kc_search_open_lib(lua_State *L, int lib, int uv);

#endif /* KONNECT_CORE_H */
