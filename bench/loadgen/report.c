#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static void put(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct json *j, const char *fmt, ...)
{
    if (j->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof j->buf - j->len)
        j->overflow = 1;
    else
        j->len += (size_t)n;
}

static void key(struct json *j, const char *k)
{
    put(j, "%s\"%s\":", j->fields++ ? "," : "", k);
}

void json_begin(struct json *j)
{
    j->len = 0;
    j->fields = 0;
    j->overflow = 0;
    put(j, "{");
}

void json_str(struct json *j, const char *k, const char *v)
{
    key(j, k);
    put(j, "\"");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(j, "\\%c", *p);
        else if (*p < 0x20)
            put(j, "\\u%04x", *p);
        else
            put(j, "%c", *p);
    }
    put(j, "\"");
}

void json_u64(struct json *j, const char *k, uint64_t v)
{
    key(j, k);
    put(j, "%llu", (unsigned long long)v);
}

void json_num(struct json *j, const char *k, double v, int decimals)
{
    key(j, k);
    if (isfinite(v))
        put(j, "%.*f", decimals, v);
    else
        put(j, "null");
}

void json_latency(struct json *j, const char *prefix, const struct hist *h)
{
    static const struct {
        const char *name;
        double q;
    } qs[] = { { "p50_us", 0.50 }, { "p90_us", 0.90 }, { "p99_us", 0.99 }, { "p999_us", 0.999 }, { "max_us", 1.0 } };
    char name[64];
    snprintf(name, sizeof name, "%smean_us", prefix);
    json_num(j, name, hist_mean(h) / 1e3, 1);
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, qs[i].name);
        json_num(j, name, (double)hist_quantile(h, qs[i].q) / 1e3, 1);
    }
}

void json_print(struct json *j)
{
    put(j, "}");
    if (j->overflow)
        die("internal: the result line is longer than %zu bytes", sizeof j->buf);
    puts(j->buf);
    fflush(stdout);
}
