/*
 * xfer.c - one transfer of konnect.core: the buffers a response is read
 * into, the libcurl callbacks that fill them (pure C: no Lua call inside a
 * callback), the easy handle and its fixed options, the per-request setup
 * shared by conn:request and m:request_many, and the request header lists of
 * core.headers.  The C API reference is the comment at the top of core.c.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ------------------------------------------------------------------ */
/* Buffers and the per-transfer state                                  */
/* ------------------------------------------------------------------ */

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
void kc_xfer_release(kc_xfer *x, int ours)
{
    if (x->easy != NULL && ours)
        curl_easy_cleanup(x->easy);
    x->easy = NULL;
    /* (its connections are the parent's too after a fork: left alone) */
    if (x->share != NULL && ours)
        curl_share_cleanup(x->share);
    x->share = NULL;
    x->used = 0;
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
            /* a status line libcurl took but RFC 9112 4 does not ("200X",
             * "200<TAB>OK": one SP after three digits), as in the cosocket
             * transport's http1.parse_head */
            if (x->status == 0) {
                x->framing = "the response's status line is malformed";
                return 0;
            }
            if (x->cl_bad && !x->has_te && x->status != 204 && x->status != 304 &&
                x->mstate != KC_M_HEAD) {
                x->framing = "the response has conflicting or invalid Content-Length values";
                return 0;
            }
        }
        return n;
    }

    if (is_blank(p[0])) {
        /* obsolete line folding (RFC 9112 5.2: a user agent replaces it
         * with a space): continue the previous value, which is the last
         * thing in the buffer.  (One with no header before it never gets
         * here from libcurl 7.83 on: its headers store refuses it first.) */
        if (x->nhdrs == 0)
            return n;
        v = p;
        vlen = len;
        while (vlen > 0 && is_blank(*v)) {
            v++;
            vlen--;
        }
        while (vlen > 0 && is_blank(v[vlen - 1]))
            vlen--;
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
/* The easy handle                                                     */
/* ------------------------------------------------------------------ */

#define KC_SET(e, opt, val) \
    do { if ((rc = curl_easy_setopt((e), (opt), (val))) != CURLE_OK) goto fail; } while (0)

/* Create x->easy with every option that does not change per request.
 * Returns NULL on success, else a static message and its kind in *kind
 * (system: the environment failed; invalid_argument: an option this libcurl
 * build cannot honour). */
const char *kc_xfer_open(kc_xfer *x, const kc_opts *o, int in_multi, kc_kind *kind)
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
     * given one is used for every host: NO_PROXY is not consulted either
     * (nor read from the environment at every request) */
    if (o->str[KC_S_PROXY] == NULL)
        KC_SET(e, CURLOPT_PROXY, "");
    KC_SET(e, CURLOPT_NOPROXY, "");
    if (!in_multi && kc_curl_stale_prevhead) {
        /* each transfer gets a duplicate of the handle (kc_xfer_prepare):
         * what a handle of curl_easy_perform caches goes into a share */
        if (x->share == NULL && (x->share = curl_share_init()) == NULL) {
            rc = CURLE_OUT_OF_MEMORY;
            goto fail;
        }
        /* (what a share could not take is only not reused) */
        (void)curl_share_setopt(x->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        (void)curl_share_setopt(x->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        (void)curl_share_setopt(x->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        KC_SET(e, CURLOPT_SHARE, x->share);
    }
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
    if (x->share != NULL) {
        curl_share_cleanup(x->share);
        x->share = NULL;
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_NOT_BUILT_IN ||
        rc == CURLE_UNKNOWN_OPTION) {
        *kind = KC_INVALID_ARGUMENT;
        return "option not supported by this libcurl build";
    }
    return rc == CURLE_OUT_OF_MEMORY ? "out of memory" : "could not configure the curl handle";
}

#undef KC_SET

/* Done with a transfer: drop the request headers (the handle must not keep
 * a pointer to them) and give back large buffers. */
void kc_xfer_finish(kc_xfer *x)
{
    /* a prebuilt list (core.headers) stays set: the next request compares
     * pointers and sets it again only when it changed */
    if (x->slist != NULL && x->easy != NULL) {
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
        x->cur_hdrs = NULL;
    }
    xfer_reset(x);
}

/* A control character: bytes < 0x20 and 0x7f; with allow_space, space and
 * HTAB are fine (a header value), without (a URL) both are refused.  Bytes
 * >= 0x80 pass (obs-text).  limits.lua's has_ctl agrees. */
int kc_has_ctl(const char *s, size_t n, int allow_space)
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

/* Seconds (fractional allowed) -> milliseconds, rounded up. */
int kc_seconds_to_ms(lua_State *L, int idx, long *ms)
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
 * handed to libcurl request after request instead of being rebuilt; one
 * for a request without fields (GET, DELETE: just the headers) and one for
 * a request with them (POST, PUT, PATCH: see build_slist). */
typedef struct {
    struct curl_slist *plain;
    struct curl_slist *fields;
} kc_headers;

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
    if (kc_has_ctl(h + v, hl - v, 1))
        return "a header contains control characters (CR, LF, NUL ...)";
    *name_len = nl;
    *value_at = v;
    return NULL;
}

/* Append the array at hi to *list (validated); for a request with fields
 * (`fields`: POSTFIELDS, which a body-less POST/PUT/PATCH gets too) also
 * "Expect:" (no 100-continue round trip) and, when no Content-Type was
 * given, an empty "Content-Type:" so libcurl does not invent a form type.
 * NULL or an error message, with *kind set (invalid_argument: the caller's
 * headers; system: memory). */
static const char *build_slist(lua_State *L, int hi, size_t nh,
                               struct curl_slist **list, int fields, kc_kind *kind)
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
    if (!fields)
        return NULL;
    if ((ns = curl_slist_append(*list, "Expect:")) == NULL)
        goto oom;
    *list = ns;
    if (!has_ct) {
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
    kc_headers *h = (kc_headers *)kc_to_udata(L, 1, KC_UV_HEADERS);
    if (h == NULL)
        h = (kc_headers *)luaL_checkudata(L, 1, KC_HEADERS_MT);     /* raises */
    if (h->plain != NULL)
        curl_slist_free_all(h->plain);
    if (h->fields != NULL)
        curl_slist_free_all(h->fields);
    h->plain = h->fields = NULL;
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
    h->plain = h->fields = NULL;
    lua_pushvalue(L, KC_UV_HEADERS);
    lua_setmetatable(L, -2);            /* from here on __gc owns the lists */
    err = build_slist(L, 1, kc_len(L, 1), &h->plain, 0, &kind);
    if (err == NULL)
        err = build_slist(L, 1, kc_len(L, 1), &h->fields, 1, &kind);
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
    return kc_seconds_to_ms(L, idx, &ms) ? ms : 0;
}

#define KC_OPT(opt, val) \
    do { if (curl_easy_setopt(e, (opt), (val)) != CURLE_OK) goto fail; } while (0)

/* Set method, URL, headers, body and timeout for the next transfer on
 * x->easy from the Lua values at absolute stack slots mi, ui, hi, bi, oi
 * (once), ti (timeout).  Only what differs from the handle's current
 * settings is set.  Lua strings are not copied for the body: the caller
 * keeps them alive until the transfer ends.  Returns NULL, or a message
 * and *kind (x is then reset). */
const char *kc_xfer_prepare(lua_State *L, kc_xfer *x, int mi, int ui, int hi,
                                int bi, int oi, int ti, kc_kind *kind)
{
    CURL *e;
    const char *method, *url, *body = NULL;
    size_t mlen, ulen, blen = 0, i, nh = 0;
    int with_fields, mstate;
    long tms;
    kc_headers *prebuilt = NULL;
    const struct curl_slist *hdrs;

    if (x->used && kc_curl_stale_prevhead) {
        /* a fresh duplicate (same options, empty headers store) for every
         * transfer: see kc_curl_stale_prevhead (core.h) */
        CURL *d = curl_easy_duphandle(x->easy);
        if (d == NULL || (x->share != NULL &&
                          curl_easy_setopt(d, CURLOPT_SHARE, x->share) != CURLE_OK)) {
            if (d != NULL)
                curl_easy_cleanup(d);
            *kind = KC_SYSTEM;
            return "out of memory";
        }
        curl_easy_cleanup(x->easy);
        x->easy = d;
        x->used = 0;
    }
    e = x->easy;
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
                      kc_has_ctl(url, ulen, 0)))
        return "url must be a non-empty string without spaces or control characters";
    if (!lua_isnoneornil(L, hi)) {
        prebuilt = (kc_headers *)kc_to_udata(L, hi, KC_UV_HEADERS);
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
    hdrs = prebuilt == NULL ? x->slist : with_fields ? prebuilt->fields : prebuilt->plain;
    if (prebuilt == NULL || hdrs != x->cur_hdrs) {
        KC_OPT(CURLOPT_HTTPHEADER, hdrs);
        x->cur_hdrs = hdrs;
    }
    x->used = 1;
    return NULL;

fail:
    /* the handle's state is unknown now: set everything next time */
    x->mstate = KC_M_NONE;
    x->cur_hdrs = NULL;
    x->url_len = 0;
    x->cur_timeout_ms = -1;
    x->pipewait = -1;
    kc_xfer_finish(x);
    return "out of memory";
}

#undef KC_OPT

/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Registration                                                        */
/* ------------------------------------------------------------------ */

static const luaL_Reg headers_meta[] = {
    { "__gc",       headers_gc },
    { "__tostring", headers_tostring },
    { NULL, NULL }
};

static const luaL_Reg headers_methods[] = {
    { NULL, NULL }
};

static const luaL_Reg headers_funcs[] = {
    { "headers", core_headers },
    { NULL, NULL }
};

void kc_xfer_open_lib(lua_State *L, int lib, int uv)
{
    kc_new_class(L, uv, KC_HEADERS_MT, headers_meta, headers_methods);
    kc_add_funcs(L, lib, uv, headers_funcs);
}
