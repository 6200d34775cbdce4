/*
 * konnect.core - the libcurl layer of lua-konnect.
 *
 *   core.new(opts)                    -> conn | nil, message, kind
 *   conn:request(method, url, headers, body, once[, timeout])
 *                                     -> res | nil, terr
 *        res = { status, body, headers (built on first access from
 *                raw_head), content_type (the one Content-Type), no_rate_limit
 *                (true: no RateLimit-* / X-RateLimit-* header), http_version,
 *                time, resent, raw_head }
 *   conn:request_values(method, url, headers, body, once, timeout[, uv])
 *                                     -> status, body, content_type,
 *                                        rate_limit, http_version, time,
 *                                        head, resent | nil, terr
 *   core.response(<those values>) -> res, core.head_headers(head) -> map, uv
 *   conn:close()                      (also __gc and __close; idempotent)
 *   core.multi(opts)                  -> m | nil, message, kind
 *   m:request_many(items, concurrency) -> results (res or terr per item)
 *                  item = { method, url, headers, body, once[, timeout] }
 *   m:close()                         (also __gc and __close; idempotent)
 *   core.version() -> "konnect.core libcurl/x.y.z", core.curl_version()
 *   core.sleep(seconds), core.monotime() -> seconds (CLOCK_MONOTONIC)
 *   core.headers({ "Name: value", ... }) -> h | nil, message, kind: a header
 *                                     list built once, to pass instead of the
 *                                     array, request after request
 *   core.json_clean(v, null) -> ok, core.find_any(s, needles) -> bool,
 *   core.json_decode(s[, needles]) -> table | nil[, held]: the Lua layer's
 *                                     per-response work, in C
 *
 * kind: "invalid_argument" (a bad option or argument of the caller) or
 * "system" (libcurl could not be initialised, memory ran out).  A request's
 * terr kinds are those of the transport contract (HACKING.md); a server's
 * broken framing is "network" as in the cosocket transport (a bad status line
 * or HTTP/0.9, differing Content-Length values, a connection closed inside
 * the head), a response head over 64 KiB is "too_large" (also one line that
 * libcurl itself refuses to buffer, see kc_head_overflow).  `timeout`
 * (seconds) overrides the options' attempt timeout for that request only.
 * The library's version lives in lua/konnect/limits.lua, not here; the caps
 * below agree with it (spec/limits_spec.lua feeds both the same cases).
 * No proxy unless the `proxy` option names one: http_proxy, ALL_PROXY ... in
 * the environment are never consulted here.
 *
 * Replays: libcurl by itself sends a request again on a fresh connection when
 * a reused one died before any answer.  For a non-idempotent request that may
 * duplicate a side effect (a second token minted), so `once` (request's 5th
 * argument, an item's 5th field) forbids it: the transfer then fails with
 * kind "network", sent = true.  Otherwise a replayed request says so with
 * res.resent = true, for the caller's own bookkeeping.
 *
 * Ground rules (see HACKING.md):
 *   - no Lua API call inside a libcurl callback: callbacks append to C
 *     buffers owned by the userdata, Lua values are built after the transfer;
 *   - every allocation hangs off a userdata, so __gc reclaims it even when a
 *     Lua error unwinds through us;
 *   - runtime failures (including bad argument types for request) return
 *     nil, terr; only a wrong `self` raises;
 *   - curl_global_init happens lazily in the process that makes a handle,
 *     never curl_global_cleanup;
 *   - a handle created in another process (before a fork) is never used or
 *     cleaned up in this one.
 */
#define _GNU_SOURCE                 /* memmem */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <sys/types.h>
#include <unistd.h>

#include <curl/curl.h>

#include "compat.h"
#include "fs.h"

#define KC_CONN_MT          "konnect.core.Connection"
#define KC_MULTI_MT         "konnect.core.Multi"
#define KC_HEADERS_MT       "konnect.core.Headers"
#define KC_RES_MT           "konnect.core.Response"
#define KC_HEAD_MT          "konnect.core.Head"

#define KC_DEFAULT_MAX_BODY        ((size_t)4 * 1024 * 1024)
#define KC_MAX_MAX_BODY            ((size_t)1024 * 1024 * 1024)
#define KC_MIN_MAX_BODY            ((size_t)1024)
#define KC_MAX_HEADER_BYTES        ((size_t)64 * 1024)   /* whole response head */
#define KC_MAX_HEADER_VALUE        ((size_t)8 * 1024)    /* one request header value */
#define KC_MAX_HEADER_NAME         ((size_t)256)
#define KC_BUF_KEEP                ((size_t)256 * 1024)
#define KC_DEFAULT_TIMEOUT_MS      30000L
#define KC_DEFAULT_CONNECT_MS      10000L
#define KC_MAX_TIMEOUT_S           86400.0
#define KC_DEFAULT_CONCURRENCY     8
#define KC_MAX_CONCURRENCY         256
#define KC_MAX_METHOD_LEN          32

#if LIBCURL_VERSION_NUM < 0x074200
#error "konnect.core needs libcurl >= 7.66.0 (curl_multi_poll)"
#endif

/* ------------------------------------------------------------------ */
/* Error kinds and the curl code -> kind table                         */
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

static const char *const kc_kind_names[KC_NKINDS] = {
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
/* Options                                                             */
/* ------------------------------------------------------------------ */

enum { KC_S_CA_FILE, KC_S_CA_PATH, KC_S_PROXY, KC_S_USER_AGENT, KC_NSTR };

/* String options: the Lua name, the libcurl option, and the matching
 * option for an HTTPS proxy (so the same trust store applies to it). */
static const struct {
    const char *name;
    CURLoption opt;
    int has_proxy_opt;
    CURLoption proxy_opt;
} kc_str_opts[KC_NSTR] = {
    { "ca_file",    CURLOPT_CAINFO,    1, CURLOPT_PROXY_CAINFO },
    { "ca_path",    CURLOPT_CAPATH,    1, CURLOPT_PROXY_CAPATH },
    { "proxy",      CURLOPT_PROXY,     0, CURLOPT_PROXY },
    { "user_agent", CURLOPT_USERAGENT, 0, CURLOPT_USERAGENT },
};

typedef struct {
    long timeout_ms;
    long connect_timeout_ms;
    size_t max_body;
    long http_version;          /* CURL_HTTP_VERSION_NONE: libcurl's default */
    char *str[KC_NSTR];         /* owned copies (kept to rebuild after fork) */
} kc_opts;

static void kc_opts_free(kc_opts *o)
{
    int i;
    for (i = 0; i < KC_NSTR; i++) {
        free(o->str[i]);
        o->str[i] = NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Buffers and the per-transfer state                                  */
/* ------------------------------------------------------------------ */

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
    kc_buf packed;              /* the headers packed for res.raw_head */
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

static int buf_append(kc_buf *b, const char *p, size_t n, size_t limit)
{
    if (n > b->cap - b->len) {
        size_t need = b->len + n;
        size_t ncap = b->cap ? b->cap : 4096;
        char *d;
        while (ncap < need)
            ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
        if (ncap > limit && limit >= need)
            ncap = limit;
        d = realloc(b->data, ncap);
        if (d == NULL)
            return -1;
        b->data = d;
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static void buf_free(kc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Empty the buffer; give back memory a big response made it grow to. */
static void buf_reset(kc_buf *b)
{
    if (b->cap > KC_BUF_KEEP)
        buf_free(b);
    else
        b->len = 0;
}

/* Forget the previous transfer's response and request headers. */
static void xfer_reset(kc_xfer *x)
{
    buf_reset(&x->body);
    buf_reset(&x->hdr);
    buf_reset(&x->packed);
    x->nhdrs = 0;
    x->head_bytes = 0;
    x->too_large = KC_FIT;
    x->oom = 0;
    x->framing = NULL;
    x->head_done = 0;
    x->status = 0;
    x->has_te = 0;
    x->cl_bad = 0;
    x->cl_first_len = 0;
    x->sends = 0;
    x->replay_blocked = 0;
    x->errbuf[0] = '\0';
    if (x->slist != NULL) {
        curl_slist_free_all(x->slist);
        x->slist = NULL;
    }
}

/* Free what we own.  The easy handle is cleaned up only when `ours`: a
 * handle inherited across fork() shares its sockets (and TLS state) with the
 * parent; curl_easy_cleanup() could write a TLS close_notify on the parent's
 * connection.  Such a handle is deliberately leaked. */
static void xfer_release(kc_xfer *x, int ours)
{
    if (x->easy != NULL && ours)
        curl_easy_cleanup(x->easy);
    x->easy = NULL;
    x->attached = 0;
    x->mstate = KC_M_NONE;
    x->cur_hdrs = NULL;
    free(x->url);
    x->url = NULL;
    x->url_len = x->url_cap = 0;
    if (x->slist != NULL)
        curl_slist_free_all(x->slist);
    x->slist = NULL;
    buf_free(&x->body);
    buf_free(&x->hdr);
    buf_free(&x->packed);
    free(x->hdrs);
    x->hdrs = NULL;
    x->nhdrs = x->hdrs_cap = 0;
}

/* ------------------------------------------------------------------ */
/* libcurl callbacks: pure C, no Lua                                   */
/* ------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    kc_xfer *x = ud;
    size_t n = size * nmemb;
    if (n > x->max_body - x->body.len) {
        x->too_large = KC_TOO_BIG_BODY;
        return 0;
    }
    if (buf_append(&x->body, p, n, x->max_body) != 0) {
        x->oom = 1;
        return 0;
    }
    return n;
}

#if LIBCURL_VERSION_NUM >= 0x075000
/* Called each time libcurl is about to send the request (again). */
static int on_prereq(void *ud, char *primary_ip, char *local_ip,
                     int primary_port, int local_port)
{
    kc_xfer *x = ud;
    (void)primary_ip; (void)local_ip; (void)primary_port; (void)local_port;
    x->sends++;
    if (x->once && x->sends > 1) {
        x->replay_blocked = 1;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}
#endif

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The status code of a status line ("HTTP/1.1 200 OK", "HTTP/2 200"), or 0. */
static int parse_status(const char *p, size_t len)
{
    const char *sp = memchr(p, ' ', len);
    size_t at;
    if (sp == NULL)
        return 0;
    at = (size_t)(sp - p) + 1;
    if (len - at < 3 || (len - at > 3 && p[at + 3] != ' '))
        return 0;
    if (p[at] < '1' || p[at] > '5' || p[at + 1] < '0' || p[at + 1] > '9' ||
        p[at + 2] < '0' || p[at + 2] > '9')
        return 0;
    return (p[at] - '0') * 100 + (p[at + 1] - '0') * 10 + (p[at + 2] - '0');
}

/* A Content-Length header h of the current block (its value in x->hdr):
 * every comma-separated element must be the same string of digits as the
 * first one seen in the block, else x->cl_bad.  (The cosocket transport's
 * http1.content_length applies the same rule to the joined value.) */
static void check_content_length(kc_xfer *x, const kc_hdr *h)
{
    const char *v = x->hdr.data + h->value, *end = v + h->value_len;
    for (;;) {
        const char *e = memchr(v, ',', (size_t)(end - v));
        const char *a = v, *b;
        if (e == NULL)
            e = end;
        b = e;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (a == b) {
            x->cl_bad = 1;
            return;
        }
        for (v = a; v < b; v++)
            if (*v < '0' || *v > '9') {
                x->cl_bad = 1;
                return;
            }
        if (x->cl_first_len == 0) {
            x->cl_first = (size_t)(a - x->hdr.data);
            x->cl_first_len = (size_t)(b - a);
        } else if ((size_t)(b - a) != x->cl_first_len ||
                   memcmp(a, x->hdr.data + x->cl_first, x->cl_first_len) != 0) {
            x->cl_bad = 1;
            return;
        }
        if (e == end)
            return;
        v = e + 1;
    }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    kc_xfer *x = ud;
    size_t n = size * nmemb, len = n, i;
    const char *colon, *v;
    size_t vlen;
    kc_hdr *h;

    /* every byte of the head counts (status lines of 1xx blocks too), and
     * libcurl hands us at most one line at a time: bounded before we keep it */
    if (n > KC_MAX_HEADER_BYTES - x->head_bytes) {
        x->too_large = KC_TOO_BIG_HEADERS;
        return 0;
    }
    x->head_bytes += n;
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A status line starts a new header block (1xx, proxy CONNECT,
         * final response): keep only the last one. */
        x->hdr.len = 0;
        x->nhdrs = 0;
        x->head_done = 0;
        x->status = parse_status(p, len);
        x->has_te = 0;
        x->cl_bad = 0;
        x->cl_first_len = 0;
        return n;
    }
    if (len == 0) {
        /* the blank line: the end of a header block; of the response head
         * unless the block was a 1xx one.  A final head whose body is framed
         * by Content-Length must give it one value (RFC 9112 6.3: differing
         * values are an unrecoverable framing error); as in the cosocket
         * transport, a Transfer-Encoding overrides it and a response without
         * a body (HEAD, 204, 304) is not checked. */
        if (!x->head_done && !(x->status >= 100 && x->status < 200)) {
            x->head_done = 1;
            if (x->cl_bad && !x->has_te && x->status != 204 && x->status != 304 &&
                x->mstate != KC_M_HEAD) {
                x->framing = "the response has conflicting or invalid Content-Length values";
                return 0;
            }
        }
        return n;
    }

    if (is_blank(p[0])) {
        /* obsolete line folding: continue the previous value, which is the
         * last thing in the buffer */
        if (x->nhdrs == 0)
            return n;
        v = p;
        vlen = len;
        while (vlen > 0 && is_blank(*v)) {
            v++;
            vlen--;
        }
        if (vlen == 0)
            return n;
        h = &x->hdrs[x->nhdrs - 1];
        if (buf_append(&x->hdr, " ", 1, SIZE_MAX) != 0 ||
            buf_append(&x->hdr, v, vlen, SIZE_MAX) != 0) {
            x->oom = 1;
            return 0;
        }
        h->value_len += vlen + 1;
        return n;
    }

    colon = memchr(p, ':', len);
    if (colon == NULL || colon == p)
        return n;                       /* not a header line: ignore */

    if (x->nhdrs == x->hdrs_cap) {
        size_t ncap = x->hdrs_cap ? x->hdrs_cap * 2 : 16;
        kc_hdr *nh = realloc(x->hdrs, ncap * sizeof *nh);
        if (nh == NULL) {
            x->oom = 1;
            return 0;
        }
        x->hdrs = nh;
        x->hdrs_cap = ncap;
    }

    v = colon + 1;
    vlen = len - (size_t)(v - p);
    while (vlen > 0 && is_blank(*v)) {
        v++;
        vlen--;
    }
    while (vlen > 0 && is_blank(v[vlen - 1]))
        vlen--;

    h = &x->hdrs[x->nhdrs];
    h->name = x->hdr.len;
    h->name_len = (size_t)(colon - p);
    if (buf_append(&x->hdr, p, h->name_len, SIZE_MAX) != 0) {
        x->oom = 1;
        return 0;
    }
    for (i = h->name; i < h->name + h->name_len; i++) {
        char c = x->hdr.data[i];
        if (c >= 'A' && c <= 'Z')
            x->hdr.data[i] = (char)(c - 'A' + 'a');
    }
    h->value = x->hdr.len;
    h->value_len = vlen;
    if (buf_append(&x->hdr, v, vlen, SIZE_MAX) != 0) {
        x->oom = 1;
        return 0;
    }
    x->nhdrs++;
    if (!x->head_done) {                /* not a trailer */
        if (h->name_len == 14 && memcmp(x->hdr.data + h->name, "content-length", 14) == 0)
            check_content_length(x, h);
        else if (h->name_len == 17 &&
                 memcmp(x->hdr.data + h->name, "transfer-encoding", 17) == 0)
            x->has_te = 1;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Handles                                                             */
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
#define KC_GEN() (kc_atfork_set ? kc_fork_gen : (unsigned)getpid())

/* curl_global_init in the process that first needs it (not at luaopen:
 * nginx forks its workers after init_by_lua). */
static CURLcode kc_global_init(void)
{
    CURLcode rc;
    if (kc_curl_ready)
        return CURLE_OK;
    rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc == CURLE_OK)
        kc_curl_ready = 1;
    return rc;
}

static const char *kc_default_user_agent(void)
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

#define KC_SET(e, opt, val) \
    do { if ((rc = curl_easy_setopt((e), (opt), (val))) != CURLE_OK) goto fail; } while (0)

/* Create x->easy with every option that does not change per request.
 * Returns NULL on success, else a static message and its kind in *kind
 * (system: the environment failed; invalid_argument: an option this libcurl
 * build cannot honour). */
static const char *xfer_open(kc_xfer *x, const kc_opts *o, int in_multi, kc_kind *kind)
{
    CURLcode rc = CURLE_OK;
    CURL *e;
    int i;

    x->max_body = o->max_body;
    x->timeout_ms = x->cur_timeout_ms = o->timeout_ms;
    x->mstate = KC_M_NONE;
    x->mcustom[0] = '\0';
    x->cur_hdrs = NULL;
    x->url_len = 0;
    *kind = KC_SYSTEM;
    if (kc_global_init() != CURLE_OK)
        return "curl_global_init failed";
    e = curl_easy_init();
    if (e == NULL)
        return "curl_easy_init failed";

    KC_SET(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    KC_SET(e, CURLOPT_PROTOCOLS_STR, "http,https");
    KC_SET(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    KC_SET(e, CURLOPT_FOLLOWLOCATION, 0L);
    KC_SET(e, CURLOPT_SSL_VERIFYPEER, 1L);
    KC_SET(e, CURLOPT_SSL_VERIFYHOST, 2L);
    KC_SET(e, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    KC_SET(e, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    KC_SET(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    KC_SET(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    KC_SET(e, CURLOPT_TCP_KEEPALIVE, 1L);
    KC_SET(e, CURLOPT_WRITEFUNCTION, on_body);
    KC_SET(e, CURLOPT_WRITEDATA, (void *)x);
    KC_SET(e, CURLOPT_HEADERFUNCTION, on_header);
    KC_SET(e, CURLOPT_HEADERDATA, (void *)x);
    KC_SET(e, CURLOPT_ERRORBUFFER, x->errbuf);
    KC_SET(e, CURLOPT_PRIVATE, (void *)x);
#if LIBCURL_VERSION_NUM >= 0x075000
    KC_SET(e, CURLOPT_PREREQFUNCTION, on_prereq);
    KC_SET(e, CURLOPT_PREREQDATA, (void *)x);
#endif
    /* HTTPS offers HTTP/2 unless told "1.1"; in a batch a transfer waits
     * for a connection it can multiplex on rather than open another one
     * (libcurl falls back to HTTP/1.1 when the server does not speak h2) */
    KC_SET(e, CURLOPT_HTTP_VERSION, o->http_version != CURL_HTTP_VERSION_NONE
                                    ? o->http_version : (long)CURL_HTTP_VERSION_2TLS);
    x->may_pipewait = in_multi && o->http_version != CURL_HTTP_VERSION_1_1;
    x->pipewait = 0;            /* set per request: https URLs only */
    /* no proxy unless one is given: never http_proxy, ALL_PROXY ...; and a
     * given one is used for every host: NO_PROXY is not consulted either */
    if (o->str[KC_S_PROXY] == NULL)
        KC_SET(e, CURLOPT_PROXY, "");
    else
        KC_SET(e, CURLOPT_NOPROXY, "");
    KC_SET(e, CURLOPT_USERAGENT,
           o->str[KC_S_USER_AGENT] ? o->str[KC_S_USER_AGENT] : kc_default_user_agent());
    for (i = 0; i < KC_NSTR; i++) {
        if (o->str[i] == NULL || i == KC_S_USER_AGENT)
            continue;
        KC_SET(e, kc_str_opts[i].opt, o->str[i]);
        if (kc_str_opts[i].has_proxy_opt)
            KC_SET(e, kc_str_opts[i].proxy_opt, o->str[i]);
    }
    x->easy = e;
    return NULL;

fail:
    curl_easy_cleanup(e);
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_NOT_BUILT_IN ||
        rc == CURLE_UNKNOWN_OPTION) {
        *kind = KC_INVALID_ARGUMENT;
        return "option not supported by this libcurl build";
    }
    return rc == CURLE_OUT_OF_MEMORY ? "out of memory" : "could not configure the curl handle";
}

#undef KC_SET

/* ------------------------------------------------------------------ */
/* Lua values                                                          */
/* ------------------------------------------------------------------ */

/* Push terr = { kind, message, code, sent }. */
static void push_terr(lua_State *L, kc_kind kind, const char *msg,
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

static int return_terr(lua_State *L, kc_kind kind, const char *msg)
{
    lua_pushnil(L);
    push_terr(L, kind, msg, 0, 0, 0);
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
    push_terr(L, kind, lua_tostring(L, -1), rc != CURLE_OK, (long)rc, sent);
    lua_remove(L, -2);
}

/* The response headers travel to Lua packed in one block (res.raw_head, a
 * userdata: a string would be interned, and LuaJIT's hash of a long string
 * samples a few bytes only, so heads that differ in their Date or request id
 * collide and every new one is compared with the dead ones): per header a
 * 4-byte name length, a 4-byte value length (native order), the name (lower
 * case) and the value.  res.headers, the { name = value } table (repeated
 * names joined with ", "), is built from it on first access (res's
 * metatable): the pipeline's success path needs only the content type
 * (res.content_type) and whether a rate-limit header came (res.no_rate_limit),
 * so most responses never build it. */
static int pack_headers(kc_xfer *x)
{
    size_t i;
    x->packed.len = 0;
    for (i = 0; i < x->nhdrs; i++) {
        const kc_hdr *h = &x->hdrs[i];
        uint32_t len[2];
        len[0] = (uint32_t)h->name_len;
        len[1] = (uint32_t)h->value_len;
        if (buf_append(&x->packed, (const char *)len, sizeof len, SIZE_MAX) != 0 ||
            buf_append(&x->packed, x->hdr.data + h->name, h->name_len, SIZE_MAX) != 0 ||
            buf_append(&x->packed, x->hdr.data + h->value, h->value_len, SIZE_MAX) != 0)
            return -1;
    }
    return 0;
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

/* res's __index: res.headers, built once from res.raw_head. */
static int res_index(lua_State *L)
{
    size_t n = 0;
    const char *p = NULL;
    if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "headers") != 0)
        return 0;
    lua_getfield(L, 1, "raw_head");
    if (lua_type(L, -1) == LUA_TUSERDATA && lua_getmetatable(L, -1)) {
        luaL_getmetatable(L, KC_HEAD_MT);
        if (lua_rawequal(L, -1, -2)) {
            p = (const char *)lua_touserdata(L, -3);
            n = (size_t)kc_len(L, -3);
        }
        lua_pop(L, 2);
    }
    push_unpacked(L, p ? p : "", p ? n : 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "headers");     /* rawset: the field is absent */
    return 1;
}

/* Push a head userdata for x's headers (its user value: nil), or nil
 * without memory. */
static void push_head(lua_State *L, kc_xfer *x)
{
    void *blk;
    if (pack_headers(x) != 0) {
        lua_pushnil(L);
        return;
    }
#if LUA_VERSION_NUM >= 504
    blk = lua_newuserdatauv(L, x->packed.len, 1);
#else
    blk = lua_newuserdata(L, x->packed.len);
#endif
    if (x->packed.len > 0)
        memcpy(blk, x->packed.data, x->packed.len);
    luaL_getmetatable(L, KC_HEAD_MT);
    lua_setmetatable(L, -2);
}

#define KC_NVALUES 8

/* Push a response's KC_NVALUES values: status, body, content_type (the one
 * Content-Type, nil if none or several), rate_limit (a RateLimit-* or
 * X-RateLimit-* header came), http_version, time, head (the packed headers,
 * see pack_headers), resent. */
static void push_values(lua_State *L, kc_xfer *x)
{
    long status = 0, ver = CURL_HTTP_VERSION_NONE;
    double total = 0;
    const char *vs;
    size_t i;
    int rate_limit = 0, ctypes = 0;
    const kc_hdr *ctype = NULL;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
    curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &ver);
    switch (ver) {
    case CURL_HTTP_VERSION_1_0: vs = "1.0"; break;
    case CURL_HTTP_VERSION_1_1: vs = "1.1"; break;
    case CURL_HTTP_VERSION_2_0: vs = "2"; break;
#if LIBCURL_VERSION_NUM >= 0x074200
    case CURL_HTTP_VERSION_3: vs = "3"; break;
#endif
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
    lua_pushinteger(L, (lua_Integer)status);
    lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
    if (ctypes == 1)
        lua_pushlstring(L, x->hdr.data + ctype->value, ctype->value_len);
    else
        lua_pushnil(L);
    lua_pushboolean(L, rate_limit);
    if (vs != NULL)
        lua_pushstring(L, vs);
    else
        lua_pushnil(L);
    lua_pushnumber(L, (lua_Number)total);
    push_head(L, x);
    lua_pushboolean(L, x->sends > 1);
}

/* Replace the KC_NVALUES values on top by the res table they make: status,
 * body, content_type, no_rate_limit (true when no rate-limit header came),
 * http_version, time, resent (true or absent), raw_head, and res.headers
 * built from raw_head on first access (res's metatable).  A raw_head that
 * is not a head gives no headers. */
static void make_response(lua_State *L)
{
    int v = lua_gettop(L) - KC_NVALUES + 1;
    lua_createtable(L, 0, 8);
    lua_pushvalue(L, v);
    lua_setfield(L, -2, "status");
    lua_pushvalue(L, v + 1);
    lua_setfield(L, -2, "body");
    lua_pushvalue(L, v + 2);
    lua_setfield(L, -2, "content_type");
    if (!lua_toboolean(L, v + 3)) {
        /* no RateLimit-* / X-RateLimit-* header: konnect.meta.rate_limit
         * has nothing to read */
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "no_rate_limit");
    }
    lua_pushvalue(L, v + 4);
    lua_setfield(L, -2, "http_version");
    lua_pushvalue(L, v + 5);
    lua_setfield(L, -2, "time");
    lua_pushvalue(L, v + 6);
    lua_setfield(L, -2, "raw_head");
    if (lua_toboolean(L, v + 7)) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "resent");
    }
    luaL_getmetatable(L, KC_RES_MT);
    lua_setmetatable(L, -2);
    lua_replace(L, v);
    lua_settop(L, v);
}

/* core.response(status, body, content_type, rate_limit, http_version, time,
 * head, resent) -> res: the table conn:request returns, from the values
 * conn:request_values returned (for a caller that needs the table after all). */
static int core_response(lua_State *L)
{
    lua_settop(L, KC_NVALUES);
    make_response(L);
    return 1;
}

/* core.head_headers(head) -> { name = value }, user value: the headers of a
 * packed head (see pack_headers; {} for anything else) and the value
 * conn:request_values stored with it. */
static int core_head_headers(lua_State *L)
{
    size_t n = 0;
    const char *p = NULL;
    lua_settop(L, 1);
    if (lua_type(L, 1) == LUA_TUSERDATA && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, KC_HEAD_MT);
        if (lua_rawequal(L, -1, -2)) {
            p = (const char *)lua_touserdata(L, 1);
            n = (size_t)kc_len(L, 1);
        }
        lua_pop(L, 2);
    }
    push_unpacked(L, p ? p : "", p ? n : 0);
    if (p == NULL) {
        lua_pushnil(L);
    } else {
#if LUA_VERSION_NUM >= 504
        lua_getiuservalue(L, 1, 1);
#elif LUA_VERSION_NUM >= 502
        lua_getuservalue(L, 1);
#else
        lua_getfenv(L, 1);              /* never set: the creator's environment */
        if (lua_rawequal(L, -1, LUA_ENVIRONINDEX) || lua_rawequal(L, -1, LUA_GLOBALSINDEX)) {
            lua_pop(L, 1);
            lua_pushnil(L);
        }
#endif
    }
    return 2;
}

static void push_response(lua_State *L, kc_xfer *x)
{
    push_values(L, x);
    make_response(L);
}

/* Push a transfer's outcome: res on success (returns 1), terr otherwise
 * (returns 0). */
static int push_outcome(lua_State *L, kc_xfer *x, CURLcode rc)
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

/* Done with a transfer: drop the request headers (the handle must not keep
 * a pointer to them) and give back large buffers. */
static void xfer_finish(kc_xfer *x)
{
    /* a prebuilt list (core.headers) stays set: the next request compares
     * pointers and sets it again only when it changed */
    if (x->slist != NULL && x->easy != NULL) {
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
        x->cur_hdrs = NULL;
    }
    xfer_reset(x);
}

/* ------------------------------------------------------------------ */
/* Options parsing                                                     */
/* ------------------------------------------------------------------ */

/* A control character: bytes < 0x20 and 0x7f; with allow_space, space and
 * HTAB are fine (a header value), without (a URL) both are refused.  Bytes
 * >= 0x80 pass (obs-text).  limits.lua's has_ctl agrees. */
static int has_ctl(const char *s, size_t n, int allow_space)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            if (!(allow_space && c == '\t'))
                return 1;
        } else if (c == ' ' && !allow_space) {
            return 1;
        }
    }
    return 0;
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

/* Seconds (fractional allowed) -> milliseconds, rounded up. */
static int seconds_to_ms(lua_State *L, int idx, long *ms)
{
    lua_Number s;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
    s = lua_tonumber(L, idx);
    if (!(s > 0 && s <= KC_MAX_TIMEOUT_S))
        return 0;
    *ms = (long)ceil((double)s * 1000.0);
    return 1;
}

/* Fill `o` from the options table at `idx`.  Returns 0, or 1 with an error
 * message pushed. */
static int parse_opts(lua_State *L, int idx, kc_opts *o)
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
            if (!seconds_to_ms(L, -1, &o->timeout_ms)) {
                lua_pushliteral(L, "option 'timeout' must be a number of seconds > 0 and <= 86400");
                return 1;
            }
        } else if (strcmp(k, "connect_timeout") == 0) {
            if (!seconds_to_ms(L, -1, &o->connect_timeout_ms)) {
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
                    (n > KC_MAX_HEADER_VALUE || has_ctl(s, n, 1))) {
                    lua_pushfstring(L, "option '%s' must be at most %d bytes without control "
                                       "characters (CR, LF, NUL ...)", k, (int)KC_MAX_HEADER_VALUE);
                    return 1;
                }
                free(o->str[i]);
                o->str[i] = kc_strdup(s, n);
                if (o->str[i] == NULL) {
                    lua_pushliteral(L, "out of memory");
                    return 1;
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

static int prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *prefix)
            return 0;
    }
    return 1;
}

/* A prebuilt request header list (core.headers): the same curl_slist is
 * handed to libcurl request after request instead of being rebuilt. */
typedef struct {
    struct curl_slist *slist;
} kc_headers;

static kc_headers *test_headers(lua_State *L, int idx)
{
    kc_headers *h = NULL;
    if (lua_type(L, idx) == LUA_TUSERDATA && lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, KC_HEADERS_MT);
        if (lua_rawequal(L, -1, -2))
            h = (kc_headers *)lua_touserdata(L, idx);
        lua_pop(L, 2);
    }
    return h;
}

/* RFC 9110 token characters (limits.lua's header_name agrees). */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Check one "Name: value" line: the name (up to the first colon) 1..256
 * token characters, the value (after the colon and one optional space) at
 * most 8 KiB with no control character but HTAB.  NULL or a message. */
static const char *check_header_line(const char *h, size_t hl, size_t *name_len,
                                     size_t *value_at)
{
    const char *colon = memchr(h, ':', hl);
    size_t nl, v, i;
    if (colon == NULL)
        return "headers must be \"Name: value\" strings";
    nl = (size_t)(colon - h);
    if (nl == 0 || nl > KC_MAX_HEADER_NAME)
        return "a header name must be 1 to 256 token characters";
    for (i = 0; i < nl; i++)
        if (!is_tchar((unsigned char)h[i]))
            return "a header name must be 1 to 256 token characters";
    v = nl + 1;
    if (v < hl && h[v] == ' ')
        v++;
    if (hl - v > KC_MAX_HEADER_VALUE)
        return "a header value is longer than 8192 bytes";
    if (has_ctl(h + v, hl - v, 1))
        return "a header contains control characters (CR, LF, NUL ...)";
    *name_len = nl;
    *value_at = v;
    return NULL;
}

/* Append the array at hi to *list (validated), then "Expect:" and, when no
 * Content-Type was given and `suppress_ct`, an empty "Content-Type:" so
 * libcurl does not invent a form type.  NULL or an error message, with
 * *kind set (invalid_argument: the caller's headers; system: memory). */
static const char *build_slist(lua_State *L, int hi, size_t nh,
                               struct curl_slist **list, int suppress_ct, kc_kind *kind)
{
    size_t i;
    int has_ct = 0;
    struct curl_slist *ns;
    *kind = KC_INVALID_ARGUMENT;
    for (i = 1; i <= nh; i++) {
        const char *h, *err;
        size_t hl, nl = 0, v = 0;
        lua_rawgeti(L, hi, (int)i);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return "headers must be an array of \"Name: value\" strings";
        }
        h = lua_tolstring(L, -1, &hl);
        if ((err = check_header_line(h, hl, &nl, &v)) != NULL) {
            lua_pop(L, 1);
            return err;
        }
        if (nl == 12 && prefix_ci(h, "content-type"))
            has_ct = 1;
        {
            /* libcurl drops "Name:" with an empty value (that form removes
             * one of its own headers); "Name;" sends it empty */
            size_t k = v;
            char semi[KC_MAX_HEADER_NAME + 2];
            while (k < hl && is_blank(h[k]))
                k++;
            if (k == hl) {
                memcpy(semi, h, nl);
                semi[nl] = ';';
                semi[nl + 1] = '\0';
                ns = curl_slist_append(*list, semi);
            } else {
                ns = curl_slist_append(*list, h);   /* copies h */
            }
        }
        lua_pop(L, 1);
        if (ns == NULL)
            goto oom;
        *list = ns;
    }
    /* no "Expect: 100-continue" round trip */
    if ((ns = curl_slist_append(*list, "Expect:")) == NULL)
        goto oom;
    *list = ns;
    if (suppress_ct && !has_ct) {
        if ((ns = curl_slist_append(*list, "Content-Type:")) == NULL)
            goto oom;
        *list = ns;
    }
    return NULL;
oom:
    *kind = KC_SYSTEM;
    return "out of memory";
}

static int headers_gc(lua_State *L)
{
    kc_headers *h = (kc_headers *)luaL_checkudata(L, 1, KC_HEADERS_MT);
    if (h->slist != NULL)
        curl_slist_free_all(h->slist);
    h->slist = NULL;
    return 0;
}

static int headers_tostring(lua_State *L)
{
    lua_pushfstring(L, KC_HEADERS_MT ": %p", luaL_checkudata(L, 1, KC_HEADERS_MT));
    return 1;
}

/* core.headers(array) -> h | nil, message, kind */
static int core_headers(lua_State *L)
{
    kc_headers *h;
    const char *err;
    kc_kind kind;
    if (!lua_istable(L, 1)) {
        lua_pushnil(L);
        lua_pushliteral(L, "headers must be an array of \"Name: value\" strings");
        lua_pushstring(L, kc_kind_names[KC_INVALID_ARGUMENT]);
        return 3;
    }
    h = (kc_headers *)lua_newuserdata(L, sizeof *h);
    h->slist = NULL;
    luaL_getmetatable(L, KC_HEADERS_MT);
    lua_setmetatable(L, -2);            /* from here on __gc owns the list */
    /* an empty Content-Type: is harmless without a body */
    err = build_slist(L, 1, kc_len(L, 1), &h->slist, 1, &kind);
    if (err != NULL) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        lua_pushstring(L, kc_kind_names[kind]);
        return 3;
    }
    return 1;
}

/* Seconds at idx (nil: the options' timeout) -> ms; 0 when invalid. */
static long call_timeout_ms(lua_State *L, int idx, long dflt)
{
    long ms;
    if (lua_isnoneornil(L, idx))
        return dflt;
    return seconds_to_ms(L, idx, &ms) ? ms : 0;
}

#define KC_OPT(opt, val) \
    do { if (curl_easy_setopt(e, (opt), (val)) != CURLE_OK) goto fail; } while (0)

/* Set method, URL, headers, body and timeout for the next transfer on
 * x->easy from the Lua values at absolute stack slots mi, ui, hi, bi, oi
 * (once), ti (timeout).  Only what differs from the handle's current
 * settings is set.  Lua strings are not copied for the body: the caller
 * keeps them alive until the transfer ends.  Returns NULL, or a message
 * and *kind (x is then reset). */
static const char *xfer_prepare(lua_State *L, kc_xfer *x, int mi, int ui, int hi,
                                int bi, int oi, int ti, kc_kind *kind)
{
    CURL *e = x->easy;
    const char *method, *url, *body = NULL;
    size_t mlen, ulen, blen = 0, i, nh = 0;
    int with_fields, mstate;
    long tms;
    kc_headers *prebuilt = NULL;
    const struct curl_slist *hdrs;

    *kind = KC_INVALID_ARGUMENT;
    if (lua_type(L, mi) != LUA_TSTRING)
        return "method must be a string";
    method = lua_tolstring(L, mi, &mlen);
    if (mlen == 0 || mlen > KC_MAX_METHOD_LEN)
        return "method must be an upper-case HTTP method name";
    for (i = 0; i < mlen; i++)
        if (method[i] < 'A' || method[i] > 'Z')
            return "method must be an upper-case HTTP method name";
    if (lua_type(L, ui) != LUA_TSTRING)
        return "url must be a string";
    url = lua_tolstring(L, ui, &ulen);
    /* (the URL the handle has now passed this check when it was set) */
    if (ulen == 0 || ((ulen != x->url_len || x->url == NULL || memcmp(url, x->url, ulen) != 0) &&
                      has_ctl(url, ulen, 0)))
        return "url must be a non-empty string without spaces or control characters";
    if (!lua_isnoneornil(L, hi)) {
        prebuilt = test_headers(L, hi);
        if (prebuilt == NULL && !lua_istable(L, hi))
            return "headers must be an array of \"Name: value\" strings or core.headers()";
        if (prebuilt == NULL)
            nh = kc_len(L, hi);
    }
    if (!lua_isnoneornil(L, bi)) {
        if (lua_type(L, bi) != LUA_TSTRING)
            return "body must be a string or nil";
        body = lua_tolstring(L, bi, &blen);
    }
    tms = call_timeout_ms(L, ti, x->timeout_ms);
    if (tms == 0)
        return "timeout must be a number of seconds > 0 and <= 86400";

    xfer_reset(x);
    x->once = lua_toboolean(L, oi);
#if LIBCURL_VERSION_NUM < 0x075000
    /* no CURLOPT_PREREQFUNCTION: a fresh connection cannot be replayed */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, (long)x->once);
#endif
    with_fields = body != NULL || (mlen == 4 && memcmp(method, "POST", 4) == 0) ||
                  (mlen == 3 && memcmp(method, "PUT", 3) == 0) ||
                  (mlen == 5 && memcmp(method, "PATCH", 5) == 0);
    if (prebuilt == NULL) {
        const char *err = build_slist(L, hi, nh, &x->slist, with_fields, kind);
        if (err != NULL) {
            xfer_reset(x);
            return err;
        }
    }

    *kind = KC_SYSTEM;                  /* setopt fails only without memory */
    if (mlen == 4 && memcmp(method, "HEAD", 4) == 0)
        mstate = KC_M_HEAD;
    else if (with_fields)
        mstate = KC_M_FIELDS;
    else if (mlen == 3 && memcmp(method, "GET", 3) == 0)
        mstate = KC_M_GET;
    else
        mstate = KC_M_CUSTOM;
    if (mstate == KC_M_FIELDS && mlen == 4 && memcmp(method, "POST", 4) == 0)
        method = "";                    /* POSTFIELDS means POST: no custom method */
    else if (mstate == KC_M_GET || mstate == KC_M_HEAD)
        method = "";

    if (mstate != x->mstate || strcmp(method, x->mcustom) != 0) {
        /* Reset whatever the previous request on this handle left behind:
         * HTTPGET clears NOBODY/UPLOAD and POST mode. */
        KC_OPT(CURLOPT_POSTFIELDS, (char *)NULL);
        KC_OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
        KC_OPT(CURLOPT_HTTPGET, 1L);
        KC_OPT(CURLOPT_CUSTOMREQUEST, (char *)NULL);
        x->mstate = KC_M_NONE;
        x->mcustom[0] = '\0';
        /* refuse an announced Content-Length over the cap up front; a HEAD
         * response only announces the size, so no cap there */
        KC_OPT(CURLOPT_MAXFILESIZE_LARGE,
               (curl_off_t)(mstate == KC_M_HEAD ? 0 : x->max_body));
        if (mstate == KC_M_HEAD)
            KC_OPT(CURLOPT_NOBODY, 1L);
        else if (mstate != KC_M_GET && method[0] != '\0')
            /* DELETE, OPTIONS ... without a body: no body, no Content-Length */
            KC_OPT(CURLOPT_CUSTOMREQUEST, method);
        memcpy(x->mcustom, method, strlen(method) + 1);
        x->mstate = mstate;
    }
    if (mstate == KC_M_FIELDS) {
        /* a body-less POST/PUT/PATCH sends "Content-Length: 0" */
        KC_OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        KC_OPT(CURLOPT_POSTFIELDS, body ? body : "");
        /* (POSTFIELDS switches to POST; the custom method still applies) */
    }
    if (tms != x->cur_timeout_ms) {
        KC_OPT(CURLOPT_TIMEOUT_MS, tms);
        x->cur_timeout_ms = tms;
    }
    if (ulen != x->url_len || x->url == NULL || memcmp(url, x->url, ulen) != 0) {
        if (ulen + 1 > x->url_cap) {
            char *nu = realloc(x->url, ulen + 1);
            if (nu == NULL)
                goto fail;
            x->url = nu;
            x->url_cap = ulen + 1;
        }
        x->url_len = 0;
        KC_OPT(CURLOPT_URL, url);
        memcpy(x->url, url, ulen + 1);
        x->url_len = ulen;
    }
    if (x->may_pipewait) {
        /* only an https URL can multiplex (h2 over TLS): a plain-http
         * transfer must not wait for another connection */
        int pw = ulen > 8 && prefix_ci(url, "https://");
        if (pw != x->pipewait) {
            KC_OPT(CURLOPT_PIPEWAIT, (long)pw);
            x->pipewait = pw;
        }
    }
    hdrs = prebuilt != NULL ? prebuilt->slist : x->slist;
    if (prebuilt == NULL || hdrs != x->cur_hdrs) {
        KC_OPT(CURLOPT_HTTPHEADER, hdrs);
        x->cur_hdrs = hdrs;
    }
    return NULL;

fail:
    /* the handle's state is unknown now: set everything next time */
    x->mstate = KC_M_NONE;
    x->cur_hdrs = NULL;
    x->url_len = 0;
    x->cur_timeout_ms = -1;
    x->pipewait = -1;
    xfer_finish(x);
    return "out of memory";
}

#undef KC_OPT

/* ------------------------------------------------------------------ */
/* Connection                                                          */
/* ------------------------------------------------------------------ */

static kc_conn *check_conn(lua_State *L, int idx)
{
    return (kc_conn *)luaL_checkudata(L, idx, KC_CONN_MT);
}

static int conn_close(lua_State *L)
{
    kc_conn *c = check_conn(L, 1);
    if (!c->closed) {
        c->closed = 1;
        xfer_release(&c->x, c->gen == KC_GEN());
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
static int return_fail(lua_State *L, const char *msg, kc_kind kind)
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

    lua_settop(L, 1);
    c = (kc_conn *)lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    luaL_getmetatable(L, KC_CONN_MT);
    lua_setmetatable(L, -2);            /* from here on __gc owns c */

    if (parse_opts(L, 1, &c->opts) != 0)
        return return_fail(L, lua_tostring(L, -1), KC_INVALID_ARGUMENT);
    c->gen = KC_GEN();
    err = xfer_open(&c->x, &c->opts, 0, &kind);
    if (err != NULL)
        return return_fail(L, err, kind);
    return 1;
}

/* conn:request(method, url, headers, body, once[, timeout]) -> res | nil, terr
 * conn:request_values(method, url, headers, body, once, timeout[, uv])
 *   -> status, body, content_type, rate_limit, http_version, time, head, resent
 *    | nil, terr
 * (the values core.response makes res of, without the table; `uv` is kept
 * with the head, for core.head_headers) */
static int conn_perform(lua_State *L, int values)
{
    kc_conn *c = check_conn(L, 1);
    const char *err;
    kc_kind kind;
    CURLcode rc;

    lua_settop(L, 8);
    if (c->closed)
        return return_terr(L, KC_INVALID_ARGUMENT, "connection is closed");
    if (c->gen != KC_GEN() || c->x.easy == NULL) {
        /* Forked since the handle was made: abandon it (see xfer_release)
         * and build a fresh one with the same options in this process.
         * (easy == NULL: an earlier rebuild failed; try again.) */
        xfer_release(&c->x, 0);
        c->gen = KC_GEN();
        err = xfer_open(&c->x, &c->opts, 0, &kind);
        if (err != NULL)
            return return_terr(L, kind, err);
    }
    err = xfer_prepare(L, &c->x, 2, 3, 4, 5, 6, 7, &kind);
    if (err != NULL)
        return return_terr(L, kind, err);

    rc = curl_easy_perform(c->x.easy);
    if (values && rc == CURLE_OK && c->x.too_large == KC_FIT && !c->x.oom && c->x.head_done) {
        push_values(L, &c->x);
        xfer_finish(&c->x);
        if (lua_isnil(L, -2))           /* no memory for the head */
            return return_terr(L, KC_SYSTEM, "out of memory");
        if (!lua_isnil(L, 8)) {
            lua_pushvalue(L, 8);
#if LUA_VERSION_NUM >= 504
            lua_setiuservalue(L, -3, 1);
#elif LUA_VERSION_NUM >= 502
            lua_setuservalue(L, -3);
#else
            if (lua_istable(L, -1))
                lua_setfenv(L, -3);
            else
                lua_pop(L, 1);
#endif
        }
        return KC_NVALUES;
    }
    if (push_outcome(L, &c->x, rc)) {
        xfer_finish(&c->x);
        if (values) {                   /* (not reached: the values above) */
            lua_pushnil(L);
            lua_insert(L, -2);
            return 2;
        }
        return 1;
    }
    xfer_finish(&c->x);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int conn_request(lua_State *L)
{
    lua_settop(L, 7);
    return conn_perform(L, 0);
}

static int conn_request_values(lua_State *L)
{
    return conn_perform(L, 1);
}

/* ------------------------------------------------------------------ */
/* Multi                                                               */
/* ------------------------------------------------------------------ */

static kc_multi *check_multi(lua_State *L, int idx)
{
    return (kc_multi *)luaL_checkudata(L, idx, KC_MULTI_MT);
}

/* Drop the CURLM and every pooled handle.  Objects created in another
 * process are abandoned, not cleaned (see xfer_release). */
static void multi_release(kc_multi *m)
{
    int ours = m->gen == KC_GEN();
    int i;
    for (i = 0; i < m->npool; i++) {
        kc_xfer *x = m->pool[i];
        if (x == NULL)
            continue;
        if (ours && x->attached && m->multi != NULL && x->easy != NULL)
            curl_multi_remove_handle(m->multi, x->easy);
        x->attached = 0;
    }
    if (ours && m->multi != NULL)
        curl_multi_cleanup(m->multi);
    m->multi = NULL;
    for (i = 0; i < m->npool; i++) {
        if (m->pool[i] != NULL) {
            xfer_release(m->pool[i], ours);
            free(m->pool[i]);
            m->pool[i] = NULL;
        }
    }
    free(m->pool);
    m->pool = NULL;
    m->npool = 0;
    m->conc = 0;
}

static const char *multi_open(kc_multi *m)
{
    if (kc_global_init() != CURLE_OK)
        return "curl_global_init failed";
    m->gen = KC_GEN();
    m->multi = curl_multi_init();
    if (m->multi == NULL)
        return "curl_multi_init failed";
    curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return NULL;
}

static int multi_close(lua_State *L)
{
    kc_multi *m = check_multi(L, 1);
    if (!m->closed) {
        m->closed = 1;
        multi_release(m);
        kc_opts_free(&m->opts);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int multi_tostring(lua_State *L)
{
    kc_multi *m = check_multi(L, 1);
    lua_pushfstring(L, KC_MULTI_MT ": %p", (void *)m);
    return 1;
}

/* core.multi(opts) -> m | nil, message, kind (as core.new) */
static int core_multi(lua_State *L)
{
    kc_multi *m;
    const char *err;
    kc_kind kind;

    lua_settop(L, 1);
    m = (kc_multi *)lua_newuserdata(L, sizeof *m);
    memset(m, 0, sizeof *m);
    luaL_getmetatable(L, KC_MULTI_MT);
    lua_setmetatable(L, -2);

    if (parse_opts(L, 1, &m->opts) != 0)
        return return_fail(L, lua_tostring(L, -1), KC_INVALID_ARGUMENT);
    kind = KC_SYSTEM;
    err = multi_open(m);
    if (err == NULL) {
        /* check the options once, so a bad one fails here, not per item */
        kc_xfer probe;
        memset(&probe, 0, sizeof probe);
        err = xfer_open(&probe, &m->opts, 1, &kind);
        xfer_release(&probe, 1);
    }
    if (err != NULL)
        return return_fail(L, err, kind);
    return 1;
}

/* Grow the pool to `n` transfer slots (handles are created lazily). */
static int multi_grow(kc_multi *m, int n)
{
    kc_xfer **np;
    if (n <= m->npool)
        return 0;
    np = realloc(m->pool, (size_t)n * sizeof *np);
    if (np == NULL)
        return -1;
    m->pool = np;
    for (; m->npool < n; m->npool++) {
        kc_xfer *x = calloc(1, sizeof *x);
        if (x == NULL)
            return -1;
        m->pool[m->npool] = x;
    }
    return 0;
}

/* Start item i (1-based) on a free slot.  Returns 1 if started, 0 if its
 * result (a terr) was stored right away. */
static int multi_start(lua_State *L, kc_multi *m, int items, int results,
                       int i, int conc)
{
    kc_xfer *x = NULL;
    const char *err;
    kc_kind kind = KC_SYSTEM;
    int s, top = lua_gettop(L);

    lua_rawgeti(L, items, i);
    if (!lua_istable(L, -1)) {
        lua_settop(L, top);
        push_terr(L, KC_INVALID_ARGUMENT,
                  "an item must be a table { method, url, headers, body, once, timeout }",
                  0, 0, 0);
        lua_rawseti(L, results, i);
        return 0;
    }
    for (s = 0; s < conc; s++)
        if (!m->pool[s]->attached) {
            x = m->pool[s];
            break;
        }
    if (x == NULL) {                    /* cannot happen: caller counts */
        lua_settop(L, top);
        push_terr(L, KC_SYSTEM, "no free transfer slot", 0, 0, 0);
        lua_rawseti(L, results, i);
        return 0;
    }
    if (x->easy == NULL && (err = xfer_open(x, &m->opts, 1, &kind)) != NULL) {
        lua_settop(L, top);
        push_terr(L, kind, err, 0, 0, 0);
        lua_rawseti(L, results, i);
        return 0;
    }
    lua_rawgeti(L, top + 1, 1);
    lua_rawgeti(L, top + 1, 2);
    lua_rawgeti(L, top + 1, 3);
    lua_rawgeti(L, top + 1, 4);
    lua_rawgeti(L, top + 1, 5);
    lua_rawgeti(L, top + 1, 6);
    /* the strings stay reachable from `items` for the whole batch */
    err = xfer_prepare(L, x, top + 2, top + 3, top + 4, top + 5, top + 6, top + 7, &kind);
    lua_settop(L, top);
    if (err == NULL && curl_multi_add_handle(m->multi, x->easy) != CURLM_OK) {
        xfer_finish(x);
        err = "curl_multi_add_handle failed";
        kind = KC_SYSTEM;
    }
    if (err != NULL) {
        push_terr(L, kind, err, 0, 0, 0);
        lua_rawseti(L, results, i);
        return 0;
    }
    x->attached = 1;
    x->index = i;
    return 1;
}

static int multi_request_many(lua_State *L)
{
    kc_multi *m = check_multi(L, 1);
    int n, conc, next = 1, inflight = 0, s;
    size_t len;

    lua_settop(L, 3);
    if (m->closed)
        return return_terr(L, KC_INVALID_ARGUMENT, "connection is closed");
    if (!lua_istable(L, 2))
        return return_terr(L, KC_INVALID_ARGUMENT, "items must be an array of requests");
    if (lua_isnil(L, 3)) {
        conc = KC_DEFAULT_CONCURRENCY;
    } else {
        lua_Number c = lua_type(L, 3) == LUA_TNUMBER ? lua_tonumber(L, 3) : 0;
        if (!(c >= 1 && c <= KC_MAX_CONCURRENCY && c == floor(c)))
            return return_terr(L, KC_INVALID_ARGUMENT,
                               "concurrency must be an integer from 1 to 256");
        conc = (int)c;
    }
    len = kc_len(L, 2);
    if (len > (size_t)INT_MAX)
        return return_terr(L, KC_INVALID_ARGUMENT, "too many items");
    n = (int)len;
    if (conc > n)
        conc = n > 0 ? n : 1;

    if (m->gen != KC_GEN() || m->multi == NULL) {
        /* forked: abandon everything made by the parent, start over
         * (multi == NULL: an earlier rebuild failed; try again) */
        multi_release(m);
        {
            const char *err = multi_open(m);
            if (err != NULL)
                return return_terr(L, KC_SYSTEM, err);
        }
    } else {
        /* a Lua error (out of memory) may have left handles attached */
        for (s = 0; s < m->npool; s++)
            if (m->pool[s]->attached) {
                curl_multi_remove_handle(m->multi, m->pool[s]->easy);
                m->pool[s]->attached = 0;
                xfer_finish(m->pool[s]);
            }
    }
    if (multi_grow(m, conc) != 0)
        return return_terr(L, KC_SYSTEM, "out of memory");
    if (m->conc != conc) {
        /* never more connections than transfers in flight: no new one while
         * an idle one can be reused, none closed that the next item wants */
        curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc);
        curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);
        curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)conc);
        m->conc = conc;
    }

    lua_createtable(L, n, 0);           /* results at slot 4 */

    while (next <= n || inflight > 0) {
        int running = 0, left = 0;
        CURLMsg *msg;
        CURLMcode mc;

        while (inflight < conc && next <= n) {
            inflight += multi_start(L, m, 2, 4, next, conc);
            next++;
        }
        if (inflight == 0)
            continue;

        mc = curl_multi_perform(m->multi, &running);
        while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
            kc_xfer *x;
            char *priv = NULL;
            CURLcode rc;
            if (msg->msg != CURLMSG_DONE)
                continue;
            rc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            x = (kc_xfer *)(void *)priv;
            curl_multi_remove_handle(m->multi, msg->easy_handle);
            if (x == NULL)
                continue;
            x->attached = 0;
            inflight--;
            push_outcome(L, x, rc);
            lua_rawseti(L, 4, x->index);
            xfer_finish(x);
        }
        if (mc != CURLM_OK) {
            /* the multi handle itself failed: fail what is in flight */
            for (s = 0; s < m->npool; s++) {
                kc_xfer *x = m->pool[s];
                if (!x->attached)
                    continue;
                curl_multi_remove_handle(m->multi, x->easy);
                x->attached = 0;
                inflight--;
                push_terr(L, mc == CURLM_OUT_OF_MEMORY ? KC_SYSTEM : KC_NETWORK,
                          curl_multi_strerror(mc), 0, 0, 1);
                lua_rawseti(L, 4, x->index);
                xfer_finish(x);
            }
            continue;
        }
        /* a slot came free: start the next item now, not after the next
         * socket event (that would hold it back a whole round trip) */
        if (inflight < conc && next <= n)
            continue;
        if (inflight > 0 && running > 0)
            curl_multi_poll(m->multi, NULL, 0, 1000, NULL);
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* Hot-path helpers of the Lua layer (pure Lua values, no libcurl)     */
/* ------------------------------------------------------------------ */

/* Deeper than any decoded value can be (konnect.json decodes at most 64
 * levels); past it json_clean gives up and the Lua walk takes over. */
#define KC_CLEAN_MAX_DEPTH 200

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

/* core.json_clean(v, null) -> true: konnect.json's walk over a decoded value
 * (null fields removed at any depth, integral floats made integers on Lua
 * 5.3+), in place; false when it could not finish (the caller walks in Lua,
 * which gives the same result: the walk can be repeated). */
static int core_json_clean(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushboolean(L, lua_type(L, 1) != LUA_TTABLE || clean_table(L, 1, 2, 0) == 0);
    return 1;
}

/* core.json_decode(s) -> table | nil: the decoder of konnect.json's common
 * case, in one pass and without the null walk.  It takes strict JSON whose
 * top level is an object or an array, strings without escapes or control
 * bytes, numbers in JSON's own grammar, at most KC_JSON_MAX_DEPTH levels, and
 * gives what lua-cjson's decode followed by konnect.json's walk gives: the
 * same keys and values (a null field absent, the last of repeated keys wins;
 * numbers through strtod as lua-cjson reads them, on Lua 5.3+ an integral one
 * as an integer), each table made at its size (so pairs may visit the keys
 * of an object in another order).  An array with a null element, and
 * anything else, returns nil: konnect.json then decodes with lua-cjson (whose
 * messages a caller sees for bad JSON). */
#define KC_JSON_MAX_DEPTH 60

static int find_any(lua_State *L, const char *s, size_t n, int idx);

typedef struct {
    lua_State *L;
    const char *p, *end;
    int depth;
} kc_json;

static int jd_value(kc_json *j, int *is_null);

static void jd_ws(kc_json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

/* At '"': push the string.  Eight bytes at a time while none of them is a
 * quote, a backslash or a control byte (the word tests may flag a byte that
 * is none of these: the byte loop then decides). */
static int jd_string(kc_json *j)
{
    const char *s = ++j->p, *p = s, *end = j->end;
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & high)
            break;
        p += 8;
    }
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            lua_pushlstring(j->L, s, (size_t)(p - s));
            j->p = p + 1;
            return 0;
        }
        if (c == '\\' || c < 0x20)
            return -1;
        p++;
    }
    return -1;
}

static int jd_digit(const kc_json *j, const char *p)
{
    return p < j->end && *p >= '0' && *p <= '9';
}

static int jd_number(kc_json *j)
{
    const char *s = j->p, *p = s;
    int neg = 0, simple = 1;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!jd_digit(j, p))
        return -1;
    if (*p == '0') {
        p++;
    } else {
        while (jd_digit(j, p))
            p++;
    }
    if (p < j->end && *p == '.') {
        simple = 0;
        p++;
        if (!jd_digit(j, p))
            return -1;
        while (jd_digit(j, p))
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        simple = 0;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (!jd_digit(j, p))
            return -1;
        while (jd_digit(j, p))
            p++;
    }
    if (simple && p - s - neg <= 15) {
        /* exact as a double and as an integer */
        long long v = 0;
        const char *d;
        for (d = s + neg; d < p; d++)
            v = v * 10 + (*d - '0');
#if LUA_VERSION_NUM >= 503
        lua_pushinteger(j->L, (lua_Integer)(neg ? -v : v));
#else
        lua_pushnumber(j->L, neg ? -(lua_Number)v : (lua_Number)v);
#endif
    } else {
        char buf[64], *e;
        double v;
        size_t n = (size_t)(p - s);
        if (n >= sizeof buf)
            return -1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        v = strtod(buf, &e);
        if (e != buf + n)               /* another locale's decimal point */
            return -1;
#if LUA_VERSION_NUM >= 503
        if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 && v == floor(v))
            lua_pushinteger(j->L, (lua_Integer)v);
        else
            lua_pushnumber(j->L, (lua_Number)v);
#else
        lua_pushnumber(j->L, (lua_Number)v);
#endif
    }
    j->p = p;
    return 0;
}

static int jd_word(kc_json *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

/* After a member of an object or an array: 1 when a ',' says another
 * follows, 0 at the closing byte (consumed), -1 for anything else. */
static int jd_more(kc_json *j, char close)
{
    jd_ws(j);
    if (j->p >= j->end)
        return -1;
    if (*j->p == ',') {
        j->p++;
        jd_ws(j);
        return 1;
    }
    if (*j->p != close)
        return -1;
    j->p++;
    return 0;
}

/* Up to this many pairs (elements) of an object (array) wait on the stack,
 * so that its table is made at its size, not grown step by step. */
#define KC_JSON_BATCH 32

/* Set the n key/value pairs waiting on the stack above the table at t, in
 * their order, and pop them: a null value removes the key (what cjson's
 * null followed by konnect.json's walk leaves), the last of repeated keys
 * wins. */
static void jd_flush_pairs(lua_State *L, int t, int n)
{
    int base = lua_gettop(L) - 2 * n, k;
    for (k = 0; k < n; k++) {
        int ki = base + 1 + 2 * k;
        lua_pushvalue(L, ki);
        if (lua_type(L, ki + 1) == LUA_TLIGHTUSERDATA) {  /* null */
            lua_pushvalue(L, -1);
            lua_rawget(L, t);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 2);
                continue;
            }
            lua_pop(L, 1);
            lua_pushnil(L);
        } else {
            lua_pushvalue(L, ki + 1);
        }
        lua_rawset(L, t);
    }
    lua_settop(L, base);
}

static int jd_object(kc_json *j)
{
    lua_State *L = j->L;
    int t = 0, n = 0, is_null, more;
    if (++j->depth > KC_JSON_MAX_DEPTH || !lua_checkstack(L, 2 * KC_JSON_BATCH + 8))
        return -1;
    j->p++;
    jd_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        j->depth--;
        lua_newtable(L);
        return 0;
    }
    for (;;) {
        if (j->p >= j->end || *j->p != '"' || jd_string(j) != 0)
            return -1;
        jd_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return -1;
        j->p++;
        jd_ws(j);
        if (jd_value(j, &is_null) != 0)
            return -1;
        if (t != 0) {
            jd_flush_pairs(L, t, 1);
        } else if (++n == KC_JSON_BATCH) {
            lua_createtable(L, 0, n);
            lua_insert(L, -2 * n - 1);
            t = lua_gettop(L) - 2 * n;
            jd_flush_pairs(L, t, n);
        }
        more = jd_more(j, '}');
        if (more < 0)
            return -1;
        if (more == 0)
            break;
    }
    if (t == 0) {
        lua_createtable(L, 0, n);
        lua_insert(L, -2 * n - 1);
        jd_flush_pairs(L, lua_gettop(L) - 2 * n, n);
    }
    j->depth--;
    return 0;
}

/* An array with a null element leaves a hole, and where # then lands depends
 * on how the table grew: such arrays are left to cjson (returns -1). */
static int jd_array(kc_json *j)
{
    lua_State *L = j->L;
    int t = 0, n = 0, is_null, i, more;
    if (++j->depth > KC_JSON_MAX_DEPTH || !lua_checkstack(L, KC_JSON_BATCH + 8))
        return -1;
    j->p++;
    jd_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        j->depth--;
        lua_newtable(L);
        return 0;
    }
    for (;;) {
        if (jd_value(j, &is_null) != 0 || is_null)
            return -1;
        n++;
        if (t != 0) {
            lua_rawseti(L, t, n);
        } else if (n == KC_JSON_BATCH) {
            lua_createtable(L, n, 0);
            lua_insert(L, -n - 1);
            t = lua_gettop(L) - n;
            for (i = n; i >= 1; i--)
                lua_rawseti(L, t, i);
        }
        more = jd_more(j, ']');
        if (more < 0)
            return -1;
        if (more == 0)
            break;
    }
    if (t == 0) {
        lua_createtable(L, n, 0);
        lua_insert(L, -n - 1);
        t = lua_gettop(L) - n;
        for (i = n; i >= 1; i--)
            lua_rawseti(L, t, i);
    }
    j->depth--;
    return 0;
}

/* Push one value (a null as the placeholder lua-cjson uses, *is_null set). */
static int jd_value(kc_json *j, int *is_null)
{
    *is_null = 0;
    if (j->p >= j->end)
        return -1;
    switch (*j->p) {
    case '{':
        return jd_object(j);
    case '[':
        return jd_array(j);
    case '"':
        return jd_string(j);
    case 't':
        if (jd_word(j, "true", 4) != 0)
            return -1;
        lua_pushboolean(j->L, 1);
        return 0;
    case 'f':
        if (jd_word(j, "false", 5) != 0)
            return -1;
        lua_pushboolean(j->L, 0);
        return 0;
    case 'n':
        if (jd_word(j, "null", 4) != 0)
            return -1;
        lua_pushlightuserdata(j->L, NULL);
        *is_null = 1;
        return 0;
    default:
        return jd_number(j);
    }
}

/* core.json_decode(s[, needles]) -> table | nil[, held]: with `needles`
 * (redaction's set, see core.find_any), nil, true when s contains any of
 * them: the caller masks first. */
static int core_json_decode(lua_State *L)
{
    kc_json j;
    size_t n;
    int is_null;
    if (lua_type(L, 1) != LUA_TSTRING)
        return 0;
    j.L = L;
    j.p = lua_tolstring(L, 1, &n);
    j.end = j.p + n;
    j.depth = 0;
    lua_settop(L, 2);
    if (!lua_isnil(L, 2)) {
        if (lua_type(L, 2) != LUA_TTABLE || find_any(L, j.p, n, 2)) {
            lua_pushnil(L);
            lua_pushboolean(L, 1);
            return 2;
        }
    }
    lua_settop(L, 1);
    jd_ws(&j);
    if (j.p >= j.end || (*j.p != '{' && *j.p != '['))
        return 0;
    if (jd_value(&j, &is_null) != 0) {
        lua_settop(L, 1);
        return 0;
    }
    jd_ws(&j);
    if (j.p != j.end) {
        lua_settop(L, 1);
        return 0;
    }
    return 1;
}

/* Does s (n bytes) contain any string of the array at idx?  1 also when the
 * array holds anything but non-empty strings (the caller looks closer). */
static int find_any(lua_State *L, const char *s, size_t n, int idx)
{
    size_t m;
    const char *p;
    int i, nn = (int)kc_len(L, idx), found = 0;
    for (i = 1; i <= nn && !found; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING) {
            found = 1;
        } else {
            p = lua_tolstring(L, -1, &m);
            if (m == 0)
                found = 1;
            else if (m == 1)
                found = memchr(s, p[0], n) != NULL;
            else
                found = m <= n && memmem(s, n, p, m) != NULL;
        }
        lua_pop(L, 1);
    }
    return found;
}

/* core.find_any(s, needles) -> whether s contains any string of the array
 * `needles` (plain bytes).  true also when the arguments are not a string
 * and an array of non-empty strings: the caller then looks closer. */
static int core_find_any(lua_State *L)
{
    size_t n;
    const char *s;
    if (lua_type(L, 1) != LUA_TSTRING || lua_type(L, 2) != LUA_TTABLE) {
        lua_pushboolean(L, 1);
        return 1;
    }
    s = lua_tolstring(L, 1, &n);
    lua_pushboolean(L, find_any(L, s, n, 2));
    return 1;
}

/* ------------------------------------------------------------------ */
/* Module                                                              */
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

static const luaL_Reg conn_methods[] = {
    { "request", conn_request },
    { "request_values", conn_request_values },
    { "close",   conn_close },
    { NULL, NULL }
};

static const luaL_Reg conn_meta[] = {
    { "__gc",       conn_close },
    { "__close",    conn_close },
    { "__tostring", conn_tostring },
    { NULL, NULL }
};

static const luaL_Reg multi_methods[] = {
    { "request_many", multi_request_many },
    { "close",        multi_close },
    { NULL, NULL }
};

static const luaL_Reg multi_meta[] = {
    { "__gc",       multi_close },
    { "__close",    multi_close },
    { "__tostring", multi_tostring },
    { NULL, NULL }
};

static const luaL_Reg headers_meta[] = {
    { "__gc",       headers_gc },
    { "__tostring", headers_tostring },
    { NULL, NULL }
};

static const luaL_Reg no_methods[] = {
    { NULL, NULL }
};

static const luaL_Reg core_funcs[] = {
    { "new",          core_new },
    { "headers",      core_headers },
    { "multi",        core_multi },
    { "version",      core_version },
    { "curl_version", core_curl_version },
    { "sleep",        core_sleep },
    { "monotime",     core_monotime },
    { "json_clean",   core_json_clean },
    { "json_decode",  core_json_decode },
    { "find_any",     core_find_any },
    { "response",     core_response },
    { "head_headers", core_head_headers },
    { NULL, NULL }
};

static void new_class(lua_State *L, const char *name,
                      const luaL_Reg *meta, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    kc_setfuncs(L, meta, 0);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_newtable(L);
    kc_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

LUALIB_API int luaopen_konnect_core(lua_State *L);

LUALIB_API int luaopen_konnect_core(lua_State *L)
{
    new_class(L, KC_CONN_MT, conn_meta, conn_methods);
    new_class(L, KC_MULTI_MT, multi_meta, multi_methods);
    new_class(L, KC_HEADERS_MT, headers_meta, no_methods);
    luaL_newmetatable(L, KC_HEAD_MT);
    lua_pushliteral(L, KC_HEAD_MT);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    luaL_newmetatable(L, KC_RES_MT);
    lua_pushcfunction(L, res_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    kc_newlib(L, core_funcs);
    kc_fs_register(L);
    if (!kc_atfork_set && pthread_atfork(NULL, NULL, kc_atfork_child) == 0)
        kc_atfork_set = 1;
    return 1;
}
