/*
 * konnect/core.so - the loader of konnect.core.
 *
 * Lua's `require` opens a C module with dlopen(RTLD_NOW): every function
 * symbol of the module AND of each library it pulls in is bound before
 * require returns.  For libcurl that is about thirty libraries (TLS, HTTP/2,
 * LDAP, Kerberos, SSH, IDN, ...), most of whose functions a run of this
 * library never calls; binding them all costs a short-lived process (the
 * konnect-pats command) a noticeable share of its start-up.
 *
 * So konnect/core.so is only this loader: it opens the real module,
 * konnect/core_impl.so from the same directory (csrc/core.c, csrc/fs.c,
 * linked with libcurl), with RTLD_LAZY | RTLD_LOCAL, so that functions are
 * bound on first call, and hands over to the real luaopen_konnect_core.
 * Nothing else changes: the module, its functions and its errors are the
 * real module's.  The handle is never closed (the module's functions stay
 * referenced by the Lua state); a failure to open it raises, as require does
 * for a module it cannot load, naming the file and the dynamic loader's
 * reason.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#define KC_IMPL_NAME "core_impl.so"

LUALIB_API int luaopen_konnect_core(lua_State *L);

LUALIB_API int luaopen_konnect_core(lua_State *L)
{
    Dl_info self;
    const char *slash;
    void *impl;
    lua_CFunction open_impl;
    luaL_Buffer b;

    memset(&self, 0, sizeof self);
    if (dladdr((void *)&luaopen_konnect_core, &self) == 0 || self.dli_fname == NULL)
        return luaL_error(L, "konnect.core: cannot find the directory of konnect/core.so");
    slash = strrchr(self.dli_fname, '/');
    luaL_buffinit(L, &b);
    if (slash != NULL)
        luaL_addlstring(&b, self.dli_fname, (size_t)(slash - self.dli_fname) + 1);
    else
        luaL_addstring(&b, "./");
    luaL_addstring(&b, KC_IMPL_NAME);
    luaL_pushresult(&b);                /* the path, kept on the stack */

    impl = dlopen(lua_tostring(L, -1), RTLD_LAZY | RTLD_LOCAL);
    if (impl == NULL) {
        const char *why = dlerror();
        return luaL_error(L, "konnect.core: cannot load %s: %s", lua_tostring(L, -1),
                          why != NULL ? why : "unknown reason");
    }
    /* the handle's own lookup scope: the real module's symbol, not ours */
    *(void **)(&open_impl) = dlsym(impl, "luaopen_konnect_core");
    if (open_impl == NULL || open_impl == luaopen_konnect_core)
        return luaL_error(L, "konnect.core: %s has no luaopen_konnect_core", lua_tostring(L, -1));
    lua_pop(L, 1);
    return open_impl(L);
}
