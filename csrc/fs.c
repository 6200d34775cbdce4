/*
 * fs.c - the secret-file primitive of konnect.core (see fs.h).
 */
#include "fs.h"
#include "compat.h"

void kc_fs_register(lua_State *L)
{
    (void)L;
}
