/*
 * raw_curl: the floor.  A plain C loop over ONE reused libcurl easy handle
 * (keep-alive, TLS session and HTTP/2 connection kept between calls), sending
 * the same requests as the other contenders.
 *
 *   raw_curl get    BASE TOKEN USER TOKEN_ID N WARMUP [CA]
 *   raw_curl cycle  BASE TOKEN USER -        N WARMUP [CA]   create -> revoke -> delete
 *   raw_curl revoke BASE TOKEN USER ID1,ID2,… N WARMUP [CA]  PATCH …/revoke, ids in turn
 *   raw_curl url    URL  TOKEN -    -         N WARMUP [CA]  GET URL itself, any 200 counts
 *                   (the floor for konnect.core alone, e.g. under callgrind)
 *   raw_curl batch  BASE TOKEN USER TOKEN_ID N 0 [CA]      one cold multi of N gets,
 *                   BENCH_CONCURRENCY (default 64) in flight, the next added as soon
 *                   as one is done (HTTP/2 multiplexed over TLS when the server
 *                   offers it); the floor of workload (d), no JSON decoding
 *
 * "Decoding" is minimal on purpose (it is the floor): a call counts only if the
 * status is the expected one and the body looks like the expected JSON object,
 * i.e. it starts with '{', ends with '}' and contains "id":"<the token id>"
 * (for create: an "id":"<36 chars>" that is then used for revoke and delete).
 * No JSON tree is built.
 *
 * Prints one JSON line: {"contender":"raw libcurl", "workload":…, "n":…,
 * "total_s":…, "median_us":…, "p90_us":…, "p99_us":…, "peak_rss_kb":…, …}
 * BENCH_LABEL in the environment, if set, names the workload in that line.
 * Timing: clock_gettime(CLOCK_MONOTONIC) around every call.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <curl/curl.h>

static int batch_main(const char *base, const char *token, const char *user, const char *id, long n,
                      const char *ca);

struct buf {
    char *p;
    size_t len, cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system CPU seconds of this process so far */
static double cpu_now(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long status_kb(const char *key)
{
    char line[256];
    long kb = -1;
    size_t klen = strlen(key);
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            sscanf(line + klen + 1, "%ld", &kb);
            break;
        }
    }
    fclose(f);
    return kb;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static CURL *easy;
static struct buf body;
static char url[1024];
static struct curl_slist *hdrs, *hdrs_body; /* without / with Content-Type */

/* one request; returns the HTTP status or -1 */
static long perform(const char *method, const char *payload)
{
    long status = 0;
    CURLcode rc;
    body.len = 0;
    if (body.p) body.p[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, payload != NULL ? hdrs_body : hdrs);
    if (payload != NULL) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload);
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    }
    rc = curl_easy_perform(easy);
    if (rc != CURLE_OK) {
        fprintf(stderr, "raw_curl: %s %s: %s\n", method, url, curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* body is a JSON object holding "id":"<id>" */
static int body_has_id(const char *id)
{
    char needle[128];
    if (body.len < 2 || body.p[0] != '{' || body.p[body.len - 1] != '}') return 0;
    snprintf(needle, sizeof needle, "\"id\":\"%s\"", id);
    return strstr(body.p, needle) != NULL;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: raw_curl get|cycle|revoke BASE TOKEN USER ID[,ID…]|- N WARMUP [CA]\n");
        return 2;
    }
    const char *mode = argv[1], *base = argv[2], *token = argv[3], *user = argv[4];
    char *ids_arg = argv[5];
    long n = atol(argv[6]), warmup = atol(argv[7]);
    const char *ca = argc > 8 ? argv[8] : NULL;
    char auth[512], id[64];
    char *ids[64];
    int nids = 0;
    const char *workload;
    int per_call_requests = 1;

    if (strcmp(mode, "batch") == 0) return batch_main(base, token, user, strtok(ids_arg, ","), n, ca);
    for (char *s = strtok(ids_arg, ","); s != NULL && nids < 64; s = strtok(NULL, ",")) ids[nids++] = s;

    if (strcmp(mode, "get") == 0) workload = "get";
    else if (strcmp(mode, "url") == 0) workload = "url";
    else if (strcmp(mode, "cycle") == 0) { workload = "cycle"; per_call_requests = 3; }
    else if (strcmp(mode, "revoke") == 0 || strcmp(mode, "revoke_seq") == 0) { mode = "revoke"; workload = "revoke_seq"; }
    else { fprintf(stderr, "raw_curl: unknown mode %s\n", mode); return 2; }
    if (getenv("BENCH_LABEL") != NULL && *getenv("BENCH_LABEL")) workload = getenv("BENCH_LABEL");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    easy = curl_easy_init();
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    hdrs = curl_slist_append(hdrs, auth);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    hdrs_body = curl_slist_append(hdrs_body, auth);
    hdrs_body = curl_slist_append(hdrs_body, "Accept: application/json");
    hdrs_body = curl_slist_append(hdrs_body, "Content-Type: application/json");
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "raw-libcurl-bench");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, (void *)&body);
    if (ca != NULL && *ca) curl_easy_setopt(easy, CURLOPT_CAINFO, ca);

    double *t = calloc((size_t)(n > 0 ? n : 1), sizeof *t);
    long errors = 0;
    double start = 0, cpu0 = 0;
    for (long i = -warmup; i < n; i++) {
        if (i == 0) { cpu0 = cpu_now(); start = now(); }
        double t0 = now();
        int ok = 1;
        if (strcmp(mode, "url") == 0) {
            snprintf(url, sizeof url, "%s", base);
            ok = perform("GET", NULL) == 200;
        } else if (strcmp(mode, "get") == 0) {
            snprintf(url, sizeof url, "%s/v3/users/%s/access-tokens/%s", base, user, ids[0]);
            ok = perform("GET", NULL) == 200 && body_has_id(ids[0]);
        } else if (strcmp(mode, "revoke") == 0) {
            const char *tid = ids[(unsigned long)(i + warmup) % (unsigned long)nids];
            snprintf(url, sizeof url, "%s/v3/users/%s/access-tokens/%s/revoke", base, user, tid);
            ok = perform("PATCH", NULL) == 200 && body_has_id(tid);
        } else {
            snprintf(url, sizeof url, "%s/v3/users/%s/access-tokens", base, user);
            ok = perform("POST", "{\"name\":\"bench-cycle\",\"ttl_seconds\":86400}") == 201;
            const char *p = ok ? strstr(body.p, "\"id\":\"") : NULL;
            if (p == NULL || strlen(p + 6) < 36 || p[6 + 36] != '"') ok = 0;
            if (ok) {
                memcpy(id, p + 6, 36);
                id[36] = '\0';
                snprintf(url, sizeof url, "%s/v3/users/%s/access-tokens/%s/revoke", base, user, id);
                ok = perform("PATCH", NULL) == 200 && body_has_id(id);
                snprintf(url, sizeof url, "%s/v3/users/%s/access-tokens/%s", base, user, id);
                ok = perform("DELETE", NULL) == 204 && ok;
            }
        }
        double dt = now() - t0;
        if (!ok) {
            errors++;
            if (errors <= 3) fprintf(stderr, "raw_curl: unexpected response: %.200s\n", body.p ? body.p : "");
        }
        if (i >= 0) t[i] = dt;
    }
    double total = now() - start;
    double cpu = cpu_now() - cpu0;
    long ver = 0;
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &ver);

    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double med = n > 0 ? (n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2) : 0;
    double p90 = n > 0 ? t[(long)(0.90 * (double)(n - 1))] : 0;
    double p99 = n > 0 ? t[(long)(0.99 * (double)(n - 1))] : 0;
    printf("{\"contender\":\"raw libcurl\",\"workload\":\"%s\",\"n\":%ld,\"requests_per_call\":%d,"
           "\"total_s\":%.6f,\"cpu_s\":%.6f,\"mean_us\":%.2f,\"cpu_us\":%.2f,\"median_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"errors\":%ld,"
           "\"http_version\":\"%s\",\"peak_rss_kb\":%ld}\n",
           workload, n, per_call_requests, total, cpu, n > 0 ? total / (double)n * 1e6 : 0,
           n > 0 ? cpu / (double)n * 1e6 : 0, med * 1e6, p90 * 1e6, p99 * 1e6, errors,
           ver == CURL_HTTP_VERSION_2_0 ? "2" : ver == CURL_HTTP_VERSION_1_1 ? "1.1" : "?",
           status_kb("VmHWM"));
    curl_slist_free_all(hdrs);
    curl_slist_free_all(hdrs_body);
    curl_easy_cleanup(easy);
    curl_global_cleanup();
    free(t);
    free(body.p);
    return errors ? 1 : 0;
}

/* raw_curl batch: one cold multi of n gets, each with its own easy handle and
 * buffer, all added at once; at most BENCH_CONCURRENCY connections. */
static int batch_main(const char *base, const char *token, const char *user, const char *id, long n,
                      const char *ca)
{
    const char *c = getenv("BENCH_CONCURRENCY");
    long conc = c != NULL && atol(c) > 0 ? atol(c) : 64;
    char auth[512], u[1024];
    struct curl_slist *h = NULL;
    long errors = 0, ver = 0;
    int running = 0;
    CURLM *m;
    CURL **e;
    struct buf *bufs;

    if (n < 1) n = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Accept: application/json");
    snprintf(u, sizeof u, "%s/v3/users/%s/access-tokens/%s", base, user, id);
    e = calloc((size_t)n, sizeof *e);
    bufs = calloc((size_t)n, sizeof *bufs);
    if (e == NULL || bufs == NULL) return 2;

    double cpu0 = cpu_now(), start = now();
    m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, conc);
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    for (long i = 0; i < n; i++) {
        e[i] = curl_easy_init();
        curl_easy_setopt(e[i], CURLOPT_URL, u);
        curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e[i], CURLOPT_USERAGENT, "raw-libcurl-bench");
        curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
        /* wait for a connection that may multiplex: over https only (h2);
         * a plain-http transfer would wait for nothing */
        curl_easy_setopt(e[i], CURLOPT_PIPEWAIT, (long)(strncmp(u, "https://", 8) == 0));
        curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e[i], CURLOPT_WRITEDATA, (void *)&bufs[i]);
        if (ca != NULL && *ca) curl_easy_setopt(e[i], CURLOPT_CAINFO, ca);
    }
    /* conc transfers in flight; the next one starts as soon as one is done */
    long next = 0, done = 0;
    for (; next < n && next < conc; next++) curl_multi_add_handle(m, e[next]);
    while (done < n) {
        CURLMcode mc = curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left, added = 0;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            long status = 0;
            if (msg->msg != CURLMSG_DONE) continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_HTTP_VERSION, &ver);
            if (msg->data.result != CURLE_OK || status != 200) errors++;
            curl_multi_remove_handle(m, msg->easy_handle);
            done++;
            if (next < n) { curl_multi_add_handle(m, e[next++]); added = 1; }
        }
        if (done >= n) break;
        if (mc == CURLM_OK && !added) mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK) { fprintf(stderr, "raw_curl: %s\n", curl_multi_strerror(mc)); errors++; break; }
    }
    double total = now() - start, cpu = cpu_now() - cpu0;
    for (long i = 0; i < n; i++) {
        char needle[128];
        snprintf(needle, sizeof needle, "\"id\":\"%s\"", id);
        if (bufs[i].p == NULL || strstr(bufs[i].p, needle) == NULL) errors++;
        curl_easy_cleanup(e[i]);
        free(bufs[i].p);
    }
    curl_multi_cleanup(m);
    printf("{\"contender\":\"raw libcurl\",\"workload\":\"%s\",\"n\":%ld,\"concurrency\":%ld,"
           "\"total_s\":%.6f,\"batch_s\":%.6f,\"cpu_s\":%.6f,\"mean_us\":%.2f,\"cpu_us\":%.2f,\"errors\":%ld,"
           "\"http_version\":\"%s\",\"peak_rss_kb\":%ld}\n",
           getenv("BENCH_LABEL") && *getenv("BENCH_LABEL") ? getenv("BENCH_LABEL") : "batch", n, conc,
           total, total, cpu, total / (double)n * 1e6, cpu / (double)n * 1e6, errors,
           ver == CURL_HTTP_VERSION_2_0 ? "2" : ver == CURL_HTTP_VERSION_1_1 ? "1.1" : "?", status_kb("VmHWM"));
    curl_slist_free_all(h);
    curl_global_cleanup();
    free(e);
    free(bufs);
    return errors ? 1 : 0;
}
