/*
 * multi.c - core.multi: many requests at once over libcurl's multi
 * interface (HTTP/2 multiplexing over TLS where the server offers it), a pool
 * of transfers reused batch after batch.  The C API reference is the comment
 * at the top of core.c.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static kc_multi *check_multi(lua_State *L, int idx)
{
    kc_multi *m = (kc_multi *)kc_to_udata(L, idx, KC_UV_MULTI);
    return m != NULL ? m : (kc_multi *)luaL_checkudata(L, idx, KC_MULTI_MT);  /* raises */
}

/* Drop the CURLM and every pooled handle.  Objects created in another
 * process are abandoned, not cleaned (see kc_xfer_release). */
static void multi_release(kc_multi *m)
{
    int ours = m->gen == kc_generation();
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
            kc_xfer_release(m->pool[i], ours);
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
    m->gen = kc_generation();
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
    int bad;

    lua_settop(L, 1);
    m = (kc_multi *)lua_newuserdata(L, sizeof *m);
    memset(m, 0, sizeof *m);
    lua_pushvalue(L, KC_UV_MULTI);
    lua_setmetatable(L, -2);

    bad = kc_parse_opts(L, 1, &m->opts);
    if (bad != 0)
        return kc_return_fail(L, lua_tostring(L, -1), bad == 2 ? KC_SYSTEM : KC_INVALID_ARGUMENT);
    kind = KC_SYSTEM;
    err = multi_open(m);
    if (err == NULL) {
        /* check the options once, so a bad one fails here, not per item */
        kc_xfer probe;
        memset(&probe, 0, sizeof probe);
        err = kc_xfer_open(&probe, &m->opts, 1, &kind);
        kc_xfer_release(&probe, 1);
    }
    if (err != NULL)
        return kc_return_fail(L, err, kind);
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
        kc_push_terr(L, KC_INVALID_ARGUMENT,
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
        kc_push_terr(L, KC_SYSTEM, "no free transfer slot", 0, 0, 0);
        lua_rawseti(L, results, i);
        return 0;
    }
    if (x->easy == NULL && (err = kc_xfer_open(x, &m->opts, 1, &kind)) != NULL) {
        lua_settop(L, top);
        kc_push_terr(L, kind, err, 0, 0, 0);
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
    err = kc_xfer_prepare(L, x, top + 2, top + 3, top + 4, top + 5, top + 6, top + 7, &kind);
    lua_settop(L, top);
    if (err == NULL && curl_multi_add_handle(m->multi, x->easy) != CURLM_OK) {
        kc_xfer_finish(x);
        err = "curl_multi_add_handle failed";
        kind = KC_SYSTEM;
    }
    if (err != NULL) {
        kc_push_terr(L, kind, err, 0, 0, 0);
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
        return kc_return_terr(L, KC_INVALID_ARGUMENT, "connection is closed");
    if (!lua_istable(L, 2))
        return kc_return_terr(L, KC_INVALID_ARGUMENT, "items must be an array of requests");
    if (lua_isnil(L, 3)) {
        conc = KC_DEFAULT_CONCURRENCY;
    } else {
        lua_Number c = lua_type(L, 3) == LUA_TNUMBER ? lua_tonumber(L, 3) : 0;
        if (!(c >= 1 && c <= KC_MAX_CONCURRENCY && c == floor(c)))
            return kc_return_terr(L, KC_INVALID_ARGUMENT,
                               "concurrency must be an integer from 1 to 256");
        conc = (int)c;
    }
    len = kc_len(L, 2);
    if (len > (size_t)INT_MAX)
        return kc_return_terr(L, KC_INVALID_ARGUMENT, "too many items");
    n = (int)len;
    if (conc > n)
        conc = n > 0 ? n : 1;

    if (m->gen != kc_generation() || m->multi == NULL) {
        /* forked: abandon everything made by the parent, start over
         * (multi == NULL: an earlier rebuild failed; try again) */
        multi_release(m);
        {
            const char *err = multi_open(m);
            if (err != NULL)
                return kc_return_terr(L, KC_SYSTEM, err);
        }
    } else {
        /* a Lua error (out of memory) may have left handles attached */
        for (s = 0; s < m->npool; s++)
            if (m->pool[s]->attached) {
                curl_multi_remove_handle(m->multi, m->pool[s]->easy);
                m->pool[s]->attached = 0;
                kc_xfer_finish(m->pool[s]);
            }
    }
    if (multi_grow(m, conc) != 0)
        return kc_return_terr(L, KC_SYSTEM, "out of memory");
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
            kc_push_outcome(L, x, rc);
            lua_rawseti(L, 4, x->index);
            kc_xfer_finish(x);
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
                kc_push_terr(L, mc == CURLM_OUT_OF_MEMORY ? KC_SYSTEM : KC_NETWORK,
                          curl_multi_strerror(mc), 0, 0, 1);
                lua_rawseti(L, 4, x->index);
                kc_xfer_finish(x);
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

static const luaL_Reg multi_funcs[] = {
    { "multi", core_multi },
    { NULL, NULL }
};

void kc_multi_open_lib(lua_State *L, int lib, int uv)
{
    kc_new_class(L, uv, KC_MULTI_MT, multi_meta, multi_methods);
    kc_add_funcs(L, lib, uv, multi_funcs);
}
