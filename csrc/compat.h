/*
 * compat.h - the few Lua C API differences konnect.core cares about.
 *
 * The code is written against the Lua 5.3/5.4 API.  Everything here carries
 * our own `kc_` prefix: LuaJIT reports LUA_VERSION_NUM 501 yet already ships
 * some 5.2 functions (luaL_setfuncs, lua_absindex ...), so an unprefixed shim
 * would clash with its headers.
 */
#ifndef KONNECT_CORE_COMPAT_H
#define KONNECT_CORE_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 502

#define kc_len(L, i)            lua_rawlen((L), (i))
#define kc_absindex(L, i)       lua_absindex((L), (i))
#define kc_setfuncs(L, l, nup)  luaL_setfuncs((L), (l), (nup))

#else /* Lua 5.1 and LuaJIT */

#define kc_len(L, i)            lua_objlen((L), (i))
#define kc_absindex(L, i) \
    (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)

/* Register the functions of `l` into the table below `nup` upvalues. */
static inline void kc_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    int i;
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

#endif

/* A new table holding the functions of the (NULL-terminated) array `l`. */
#define kc_newlib(L, l) \
    (lua_createtable((L), 0, (int)(sizeof(l) / sizeof((l)[0]) - 1)), \
     kc_setfuncs((L), (l), 0))

#endif /* KONNECT_CORE_COMPAT_H */
