/* admin_util — what the admin plane's integration tests share: an HTTP
 * GET of a process's admin endpoint (libcurl) and lookups of samples in
 * the Prometheus text it answers. */
#ifndef TL_ADMIN_UTIL_H
#define TL_ADMIN_UTIL_H

#include <curl/curl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing NUL-terminated body. */
struct http_body {
    char *data;
    size_t len;
};

static inline size_t
http_body_write(char *p, size_t size, size_t n, void *arg)
{
    struct http_body *b = arg;
    size_t add = size * n;
    char *d = realloc(b->data, b->len + add + 1);
    if (d == NULL)
        return 0;
    memcpy(d + b->len, p, add);
    b->len += add;
    d[b->len] = '\0';
    b->data = d;
    return add;
}

/* GET http://@addr@path (at most 10 s); the body in *@body (free(); ""
 * on failure). Returns the HTTP status, or -1 when nothing answered. */
static inline long
http_get(const char *addr, const char *path, char **body)
{
    char url[2048];
    struct http_body b = {calloc(1, 1), 0};
    long status = -1;
    CURL *h = curl_easy_init();

    snprintf(url, sizeof url, "http://%.64s%.1900s", addr, path);
    if (h != NULL && b.data != NULL) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    if (h != NULL)
        curl_easy_cleanup(h);
    *body = b.data;
    return status;
}

/* The value of the sample whose name and labels are exactly @series
 * (e.g. `talus_router_statements_total{kind="select"}`) in the text
 * exposition @text; NAN when absent. */
static inline double
metric_value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return NAN;
}

/* The sum of every sample of metric @name (any labels) in @text, and in
 * *@n_series (may be NULL) how many there are. */
static inline double
metric_sum(const char *text, const char *name, int *n_series)
{
    size_t n = strlen(name);
    double sum = 0;
    int count = 0;
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '{')) {
            const char *sp = p[n] == ' ' ? p + n : strchr(p, '}');
            if (sp != NULL && (sp = strchr(sp, ' ')) != NULL) {
                sum += strtod(sp + 1, NULL);
                count++;
            }
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    if (n_series != NULL)
        *n_series = count;
    return sum;
}

#endif
