/*
 * search.c - the secret search behind konnect.accel: is any of a set of
 * plain strings (a client's secrets, their base64 fragments, "%" and "\")
 * somewhere in a response body?  One C call per body instead of one
 * string.find per needle; konnect.redact masks only when it says yes.  The
 * set is built once (core.needles) and kept by the caller, like a header
 * list.  The C API reference is the comment at the top of core.c.
 */
#define _GNU_SOURCE                 /* memmem */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* A needle set: n needles back to back after the header, each a kc_needle,
 * its bytes, and padding to the alignment of size_t.  `always`: the list
 * held something that is not a non-empty string, so every search says yes
 * (the caller looks closer). */
typedef struct {
    size_t n;
    int always;
} kc_needles;

/* One needle of 3 bytes or more is looked for with a skip table made once
 * (Horspool's algorithm on the hash of the window's last two bytes): for a
 * hash h, shift[h] is how far the window may move when its last two bytes
 * hash to h, 0 when they may end a match.  A needle of 1 or 2 bytes goes to
 * memchr / memmem. */
typedef struct {
    size_t len;
    unsigned char shift[256];
} kc_needle;

#define KC_H2(p) ((unsigned char)(((unsigned)(p)[-1] << 4) ^ (unsigned)(p)[0]))
#define KC_NEEDLE_SIZE(m) \
    ((sizeof(kc_needle) + (m) + sizeof(size_t) - 1) / sizeof(size_t) * sizeof(size_t))

static void needle_init(kc_needle *nd, const unsigned char *ne, size_t m)
{
    size_t i;
    nd->len = m;
    memcpy(nd + 1, ne, m);
    if (m < 3)
        return;
    /* a two-byte hash found nowhere in the needle lets the window move by
     * m - 1; a smaller shift is always safe, hence the cap and the overwrites
     * (the later a gram, the smaller its shift) */
    memset(nd->shift, m - 1 > 255 ? 255 : (int)(m - 1), sizeof nd->shift);
    for (i = 1; i < m; i++) {
        size_t s = m - 1 - i;
        nd->shift[KC_H2(ne + i)] = (unsigned char)(s > 255 ? 255 : s);
    }
}

/* Is the needle in hs (n bytes)?  Linear in n: the bytes compared at
 * candidate windows are counted, and past twice the haystack the rest of the
 * search goes to memmem (whose worst case is linear too). */
static int needle_in(const kc_needle *nd, const unsigned char *hs, size_t n)
{
    const unsigned char *ne = (const unsigned char *)(nd + 1);
    size_t m = nd->len, pos, budget;
    if (m > n)
        return 0;
    if (m == 1)
        return memchr(hs, ne[0], n) != NULL;
    if (m == 2)
        return memmem(hs, n, ne, m) != NULL;
    budget = 2 * n + 4 * m;
    for (pos = m - 1; pos < n;) {
        size_t s = nd->shift[KC_H2(hs + pos)];
        if (s != 0) {
            pos += s;
            continue;
        }
        if (memcmp(hs + pos + 1 - m, ne, m) == 0)
            return 1;
        if (budget < m)
            return memmem(hs + pos + 1 - m, n - (pos + 1 - m), ne, m) != NULL;
        budget -= m;
        pos++;
    }
    return 0;
}

/* core.needles(list) -> set: the strings of the array `list`.  Anything in
 * it but a non-empty string (or a `list` that is not a table) makes every
 * search of the set say true. */
static int core_needles(lua_State *L)
{
    size_t n, i, size = sizeof(kc_needles);
    int always = 0;
    kc_needles *set;
    char *p;

    if (!lua_istable(L, 1)) {
        lua_newtable(L);
        lua_replace(L, 1);
        always = 1;
    }
    n = kc_len(L, 1);
    for (i = 1; i <= n; i++) {
        size_t m = 0;
        lua_rawgeti(L, 1, (int)i);
        if (lua_type(L, -1) == LUA_TSTRING)
            lua_tolstring(L, -1, &m);
        if (m == 0)
            always = 1;
        size += KC_NEEDLE_SIZE(m);
        lua_pop(L, 1);
    }
    set = (kc_needles *)lua_newuserdata(L, size);
    set->n = n;
    set->always = always;
    p = (char *)(set + 1);
    for (i = 1; i <= n; i++) {
        size_t m = 0;
        const char *s = "";
        lua_rawgeti(L, 1, (int)i);
        if (lua_type(L, -1) == LUA_TSTRING)
            s = lua_tolstring(L, -1, &m);
        needle_init((kc_needle *)(void *)p, (const unsigned char *)s, m);
        p += KC_NEEDLE_SIZE(m);
        lua_pop(L, 1);
    }
    lua_pushvalue(L, KC_UV_NEEDLES);
    lua_setmetatable(L, -2);
    return 1;
}

/* Does s (n bytes) contain any string of the set? */
static int find_any(const kc_needles *set, const char *s, size_t n)
{
    const char *p = (const char *)(set + 1);
    size_t i;
    if (set->always)
        return 1;
    for (i = 0; i < set->n; i++) {
        const kc_needle *nd = (const kc_needle *)(const void *)p;
        if (needle_in(nd, (const unsigned char *)s, n))
            return 1;
        p += KC_NEEDLE_SIZE(nd->len);
    }
    return 0;
}

/* core.find_any(s, set) -> whether s contains any string of the set (plain
 * bytes).  true also when s is not a string or set is not a set of
 * core.needles: the caller then looks closer. */
static int core_find_any(lua_State *L)
{
    size_t n;
    const char *s;
    const kc_needles *set = (const kc_needles *)kc_to_udata(L, 2, KC_UV_NEEDLES);
    if (lua_type(L, 1) != LUA_TSTRING || set == NULL) {
        lua_pushboolean(L, 1);
        return 1;
    }
    s = lua_tolstring(L, 1, &n);
    lua_pushboolean(L, find_any(set, s, n));
    return 1;
}

static int needles_tostring(lua_State *L)
{
    lua_pushfstring(L, KC_NEEDLES_MT ": %p", lua_touserdata(L, 1));
    return 1;
}

static const luaL_Reg needles_meta[] = {
    { "__tostring", needles_tostring },
    { NULL, NULL }
};

static const luaL_Reg search_funcs[] = {
    { "needles",  core_needles },
    { "find_any", core_find_any },
    { NULL, NULL }
};

void kc_search_open_lib(lua_State *L, int lib, int uv)
{
    kc_new_class(L, uv, KC_NEEDLES_MT, needles_meta, NULL);
    kc_add_funcs(L, lib, uv, search_funcs);
}
