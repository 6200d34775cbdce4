/*
 * fs.h - konnect.core's file primitive for secrets (csrc/fs.c): one open(2)
 * with O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC and mode 0600, or an unpredictable
 * temporary in the same directory renamed over the target; no shell, no
 * reopen by name.  Registered into the konnect.core table by luaopen.
 */
#ifndef KONNECT_CORE_FS_H
#define KONNECT_CORE_FS_H

#include <lua.h>

/* Add the file functions to the table on top of the stack.  (Hidden: the
 * module's one exported symbol is luaopen_konnect_core.) */
#if defined(__GNUC__)
__attribute__((visibility("hidden")))
#endif
void kc_fs_register(lua_State *L);

#endif /* KONNECT_CORE_FS_H */
