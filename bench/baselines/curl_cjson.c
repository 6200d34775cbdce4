/*
 * curl_cjson: the independent floor of a `get` on Lua 5.4 (bench/floors.sh): the
 * same GET as client:get(user, id) with nothing of ours.  One libcurl easy handle
 * reused for every call (it keeps the connection open: curl_easy_perform(3)); the
 * headers the library sends: Authorization, Accept, and a User-Agent of the
 * library's shape and length (libcurl formats that line byte by byte, ~160
 * instructions a byte: bench/README.md); no proxy from the environment, as the
 * library (CURLOPT_PROXY(3): "" "explicitly disables the use of a proxy"); the
 * status and Content-Type checked (curl_easy_getinfo(3)); each body decoded by
 * lua-cjson into a Lua table in an embedded Lua 5.4 state.
 *
 *   curl_cjson URL TOKEN WARMUP N  ->  "n=N wall_s=… cpu_s=…" (the N calls after WARMUP)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <curl/curl.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static char body[65536]; /* a PAT is ~300 bytes; more fails the call */
static size_t body_len;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    size_t n = size * nmemb;
    (void)ud;
    if (n > sizeof body - body_len) return 0; /* libcurl then fails the transfer */
    memcpy(body + body_len, data, n);
    body_len += n;
    return n;
}

static void clocks(double *wall, double *cpu)
{
    struct timespec t;
    struct rusage r;
    clock_gettime(CLOCK_MONOTONIC, &t);
    getrusage(RUSAGE_SELF, &r);
    *wall = t.tv_sec + t.tv_nsec / 1e9;
    *cpu = r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 5) { fprintf(stderr, "usage: curl_cjson URL TOKEN WARMUP N\n"); return 2; }
    long warmup = atol(argv[3]), n = atol(argv[4]);
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_dostring(L, "return require('cjson').decode") != LUA_OK) { /* decode stays at index 1 */
        fprintf(stderr, "curl_cjson: %s\n", lua_tostring(L, -1));
        return 1;
    }
    char auth[512], ua[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", argv[2]);
    snprintf(ua, sizeof ua, "konnect-floor/0.2 (libcurl/%s; %s)", curl_version_info(CURLVERSION_NOW)->version,
             LUA_VERSION);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *hs = curl_slist_append(curl_slist_append(NULL, auth), "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    double t0 = 0, c0 = 0, t1, c1;
    for (long i = 0; i < warmup + n; i++) {
        if (i == warmup) clocks(&t0, &c0);
        long status = 0;
        char *ct = NULL;
        body_len = 0;
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (rc != CURLE_OK || status != 200 || ct == NULL || strncmp(ct, "application/json", 16) != 0) {
            fprintf(stderr, "curl_cjson: call %ld: %s, status %ld\n", i + 1, curl_easy_strerror(rc), status);
            return 1;
        }
        lua_pushvalue(L, 1);
        lua_pushlstring(L, body, body_len);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
            fprintf(stderr, "curl_cjson: call %ld: the body is not a JSON object\n", i + 1);
            return 1;
        }
        lua_pop(L, 1);
    }
    if (n <= 0) clocks(&t0, &c0);
    clocks(&t1, &c1);
    printf("n=%ld wall_s=%.6f cpu_s=%.6f\n", n, t1 - t0, c1 - c0);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    lua_close(L);
    return 0;
}
