/*
 * fs.c - the secret-file primitive of konnect.core (see fs.h).
 *
 *   core.secret_file(path, replace) -> sf | nil, message, errno_name
 *   sf:commit(data) -> true | nil, message, errno_name
 *   sf:abort()      -> true   (also __gc and, on 5.4, __close: a file dropped
 *                              or left by an error is removed, never a half-made one)
 *   sf:close()      -> true   (closes only)
 *   core.file_mode(path) -> permission bits (links followed) | nil, message, errno_name
 *
 * The file that will hold a secret is created once, before the secret exists,
 * with open(2) O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC and mode 0600, relative to
 * a descriptor of its directory; everything later (write, fsync, rename,
 * unlink) goes through those descriptors.  Nothing is ever reopened by name
 * and no shell is involved, so a name planted or swapped by another local user
 * (a symlink, a named pipe) never receives the secret.
 *
 * replace = true: the data goes to a fresh temporary in the same directory,
 * named with 96 bits from getrandom(2) (or /dev/urandom), renamed over the
 * target at commit; rename(2) replaces a symlink, it never follows it.
 *
 * No function here raises once the object exists: every failure is
 * nil, message, errno name (EEXIST, ELOOP, ...).  Messages carry no data.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "fs.h"
#include "compat.h"

#define KC_SF_MT "konnect.core.SecretFile"
#define KC_SF_RANDOM 16 /* characters of the temporary's random part (6 bits each) */
#define KC_SF_TRIES 32

typedef struct {
    int fd;              /* the file being written, -1 once closed */
    int dirfd;           /* its directory, -1 once closed */
    int replace;         /* write a temporary and rename it over `base` */
    int committed;       /* commit succeeded: never remove anything */
    int created;         /* `fd` refers to a file we created (abort may unlink it) */
    dev_t dev;           /* identity of what we created, checked before unlink */
    ino_t ino;
    char *base;          /* target's name inside dirfd */
    char *tmp;           /* temporary's name inside dirfd (replace), else NULL */
} kc_sf;

/* errno -> its name, one table. */
#define KC_ERRNOS(X) \
    X(EEXIST) X(ELOOP) X(EISDIR) X(ENOENT) X(EACCES) X(EPERM) X(ENOTDIR) \
    X(ENAMETOOLONG) X(EROFS) X(ENOSPC) X(EDQUOT) X(EIO) X(EXDEV) X(EBUSY) \
    X(ETXTBSY) X(EINVAL) X(EBADF) X(EMFILE) X(ENFILE) X(ENOMEM) X(EINTR) \
    X(EAGAIN) X(EFBIG) X(ENXIO) X(EOVERFLOW) X(EFAULT) X(EMLINK) X(ENOSYS)

static const char *kc_errno_name(int e)
{
    switch (e) {
#define KC_ERRNO_CASE(n) case n: return #n;
    KC_ERRNOS(KC_ERRNO_CASE)
#undef KC_ERRNO_CASE
    default: return "EUNKNOWN";
    }
}

/* nil, "<what>: <strerror>", "ENAME"; returns 3. */
static int kc_fail(lua_State *L, const char *what, int e)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", what, strerror(e));
    lua_pushstring(L, kc_errno_name(e));
    return 3;
}

/* Close what is open; never unlinks.  Idempotent. */
static void kc_sf_release(kc_sf *sf)
{
    if (sf->fd >= 0) {
        close(sf->fd);
        sf->fd = -1;
    }
    if (sf->dirfd >= 0) {
        close(sf->dirfd);
        sf->dirfd = -1;
    }
}

/* Remove the name we created, if it still names the file we created. */
static void kc_sf_unlink_created(kc_sf *sf)
{
    struct stat st;
    const char *name = sf->replace ? sf->tmp : sf->base;
    if (!sf->created || sf->committed || sf->dirfd < 0 || name == NULL)
        return;
    if (fstatat(sf->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_dev == sf->dev && st.st_ino == sf->ino)
        unlinkat(sf->dirfd, name, 0);
    sf->created = 0;
}

static int kc_random(unsigned char *buf, size_t n)
{
    size_t got = 0;
    int fd;
#if defined(__linux__) && defined(SYS_getrandom)
    while (got < n) {
        long r = syscall(SYS_getrandom, buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    if (got == n)
        return 0;
#endif
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(fd);
            errno = EIO;
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    return 0;
}

static const char kc_alnum[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* core.secret_file(path, replace) */
static int kc_secret_file(lua_State *L)
{
    size_t len, dirlen, baselen;
    const char *path, *slash;
    char *mem;
    kc_sf *sf;
    struct stat st;
    int replace, fd, e, tries;
    char dir[4096];

    if (lua_type(L, 1) != LUA_TSTRING)
        return kc_fail(L, "secret_file needs a path", EINVAL);
    path = lua_tolstring(L, 1, &len);
    replace = lua_toboolean(L, 2);
    if (len == 0 || strlen(path) != len)
        return kc_fail(L, "secret_file: empty path or NUL byte in path", EINVAL);
    slash = strrchr(path, '/');
    if (slash == NULL) {
        dirlen = 0;
        baselen = len;
    } else {
        dirlen = (size_t)(slash - path);
        baselen = len - dirlen - 1;
    }
    if (baselen == 0 || strcmp(path + len - baselen, ".") == 0 ||
        strcmp(path + len - baselen, "..") == 0)
        return kc_fail(L, "secret_file: the path names a directory", EISDIR);
    if (dirlen >= sizeof dir)
        return kc_fail(L, "secret_file: directory path too long", ENAMETOOLONG);
    if (slash == NULL) {
        dir[0] = '.';
        dir[1] = '\0';
    } else if (dirlen == 0) {
        dir[0] = '/';
        dir[1] = '\0';
    } else {
        memcpy(dir, path, dirlen);
        dir[dirlen] = '\0';
    }

    /* One block owned by the userdata: the struct, then base, then tmp. */
    sf = (kc_sf *)lua_newuserdata(L, sizeof *sf + 2 * (baselen + 1) + KC_SF_RANDOM + 16);
    memset(sf, 0, sizeof *sf);
    sf->fd = -1;
    sf->dirfd = -1;
    luaL_getmetatable(L, KC_SF_MT);
    lua_setmetatable(L, -2);
    mem = (char *)(sf + 1);
    sf->base = mem;
    memcpy(sf->base, path + len - baselen, baselen);
    sf->base[baselen] = '\0';
    sf->replace = replace;

    sf->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sf->dirfd < 0)
        return kc_fail(L, "cannot open the directory", errno);

    if (!replace) {
        fd = openat(sf->dirfd, sf->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            e = errno;
            kc_sf_release(sf);
            return kc_fail(L, "cannot create the file", e);
        }
    } else {
        if (fstatat(sf->dirfd, sf->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(st.st_mode)) {
                kc_sf_release(sf);
                return kc_fail(L, "cannot replace a directory", EISDIR);
            }
            if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
                kc_sf_release(sf);
                return kc_fail(L, "will not replace a special file (pipe, socket, device)", EEXIST);
            }
        } else if (errno != ENOENT) {
            e = errno;
            kc_sf_release(sf);
            return kc_fail(L, "cannot inspect the path", e);
        }
        sf->tmp = sf->base + baselen + 1;
        fd = -1;
        for (tries = 0; tries < KC_SF_TRIES && fd < 0; tries++) {
            unsigned char rnd[KC_SF_RANDOM];
            size_t i, n = 0;
            if (kc_random(rnd, sizeof rnd) != 0) {
                e = errno;
                kc_sf_release(sf);
                return kc_fail(L, "no random bytes for a temporary name", e);
            }
            sf->tmp[n++] = '.';
            memcpy(sf->tmp + n, sf->base, baselen);
            n += baselen;
            sf->tmp[n++] = '.';
            for (i = 0; i < sizeof rnd; i++)
                sf->tmp[n++] = kc_alnum[rnd[i] & 63];
            sf->tmp[n] = '\0';
            fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd < 0 && errno != EEXIST)
                break;
        }
        if (fd < 0) {
            e = errno;
            kc_sf_release(sf);
            return kc_fail(L, "cannot create a temporary file", e);
        }
    }
    sf->fd = fd;
    if (fstat(fd, &st) != 0) {
        e = errno;
        kc_sf_release(sf); /* cannot tell what we created: leave it */
        return kc_fail(L, "cannot stat the new file", e);
    }
    sf->dev = st.st_dev;
    sf->ino = st.st_ino;
    sf->created = 1;
    if (!S_ISREG(st.st_mode) || fchmod(fd, 0600) != 0) {
        e = S_ISREG(st.st_mode) ? errno : EEXIST;
        kc_sf_unlink_created(sf);
        kc_sf_release(sf);
        return kc_fail(L, "cannot make the file private", e);
    }
    return 1;
}

static kc_sf *check_sf(lua_State *L)
{
    return (kc_sf *)luaL_checkudata(L, 1, KC_SF_MT);
}

/* sf:commit(data) */
static int sf_commit(lua_State *L)
{
    kc_sf *sf = check_sf(L);
    size_t len, off = 0;
    const char *data;
    if (lua_type(L, 2) != LUA_TSTRING)
        return kc_fail(L, "commit needs a string", EINVAL);
    data = lua_tolstring(L, 2, &len);
    if (sf->fd < 0 || sf->dirfd < 0 || sf->committed)
        return kc_fail(L, "the secret file is closed", EBADF);
    while (off < len) {
        ssize_t w = write(sf->fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return kc_fail(L, "cannot write the file", errno);
        }
        off += (size_t)w;
    }
    if (fsync(sf->fd) != 0)
        return kc_fail(L, "cannot sync the file", errno);
    if (sf->replace && renameat(sf->dirfd, sf->tmp, sf->dirfd, sf->base) != 0)
        return kc_fail(L, "cannot rename the temporary over the file", errno);
    /* The name must still be ours: a file created without replace whose name
     * was swapped (for a link, say) during the API call is not a success. */
    {
        struct stat st;
        if (fstatat(sf->dirfd, sf->base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            st.st_dev != sf->dev || st.st_ino != sf->ino) {
            if (sf->replace)
                sf->committed = 1; /* renamed: nothing of ours left to remove by name */
            return kc_fail(L, "the file was replaced by someone else before the secret was written", EEXIST);
        }
    }
    sf->committed = 1;
    if (fsync(sf->dirfd) != 0) {
        int e = errno;
        kc_sf_release(sf);
        return kc_fail(L, "cannot sync the directory", e);
    }
    if (close(sf->fd) != 0) {
        int e = errno;
        sf->fd = -1;
        kc_sf_release(sf);
        return kc_fail(L, "cannot close the file", e);
    }
    sf->fd = -1;
    kc_sf_release(sf);
    lua_pushboolean(L, 1);
    return 1;
}

/* sf:abort(): close, and remove what we created (never after a commit). */
static int sf_abort(lua_State *L)
{
    kc_sf *sf = check_sf(L);
    kc_sf_unlink_created(sf);
    kc_sf_release(sf);
    lua_pushboolean(L, 1);
    return 1;
}

/* sf:close(), __gc, __close: close the descriptors; removes nothing. */
static int sf_close(lua_State *L)
{
    kc_sf_release(check_sf(L));
    lua_pushboolean(L, 1);
    return 1;
}

static int sf_tostring(lua_State *L)
{
    lua_pushfstring(L, KC_SF_MT ": %p", (void *)check_sf(L));
    return 1;
}

static const luaL_Reg sf_methods[] = {
    { "commit", sf_commit },
    { "abort", sf_abort },
    { "close", sf_close },
    { NULL, NULL }
};

/* core.file_mode(path): stat(2) follows links, as a reader of the file does;
 * the permission bits (mode & 07777), so the CLI can warn about a token file
 * others may read without running a shell. */
static int kc_file_mode(lua_State *L)
{
    size_t n;
    const char *path = luaL_checklstring(L, 1, &n);
    struct stat st;
    if (n == 0 || strlen(path) != n)
        return kc_fail(L, "file_mode", EINVAL);
    if (stat(path, &st) != 0)
        return kc_fail(L, "file_mode", errno);
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    return 1;
}

/* core.isatty(fd) -> boolean: isatty(3) of this process's descriptor fd (0, 1
 * or 2), so the CLI can tell a terminal from a pipe without running a shell.
 * Any other fd, or one that is closed, is not a terminal. */
static int kc_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_pushboolean(L, fd >= 0 && fd <= 2 && isatty((int)fd) == 1);
    return 1;
}

void kc_fs_register(lua_State *L)
{
    int lib = kc_absindex(L, -1);
    if (luaL_newmetatable(L, KC_SF_MT)) {
        lua_pushstring(L, KC_SF_MT);
        lua_setfield(L, -2, "__name");
        lua_pushcfunction(L, sf_abort);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, sf_abort);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, sf_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_createtable(L, 0, 3);
        kc_setfuncs(L, sf_methods, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, kc_secret_file);
    lua_setfield(L, lib, "secret_file");
    lua_pushcfunction(L, kc_file_mode);
    lua_setfield(L, lib, "file_mode");
    lua_pushcfunction(L, kc_isatty);
    lua_setfield(L, lib, "isatty");
}
