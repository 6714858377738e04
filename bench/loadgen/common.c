#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

enum { ERR_REPORT_LIMIT = 10 };

void err_report(struct err_limiter *lim, const char *fmt, ...)
{
    lim->seen++;
    if (lim->seen > ERR_REPORT_LIMIT)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (lim->seen == ERR_REPORT_LIMIT)
        log_msg("further %s are counted but not printed", lim->what);
}

int buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->off - b->len >= extra)
        return 0;
    /* Compact first: the consumed prefix is free space. */
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
        if (b->cap - b->len >= extra)
            return 0;
    }
    if (extra > b->max || b->len > b->max - extra)
        return -1;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) != 0)
        return -1;
    memcpy(buf_tail(b), data, len);
    b->len += len;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    b->off += n;
    b->len -= n;
    if (b->len == 0)
        b->off = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

uint8_t *read_file(const char *path, size_t max, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0)
        die("cannot seek %s: %s", path, strerror(errno));
    long size = ftell(f);
    if (size < 0)
        die("cannot size %s: %s", path, strerror(errno));
    if ((unsigned long)size > max)
        die("%s is %ld bytes, more than the %zu allowed", path, size, max);
    rewind(f);
    uint8_t *data = malloc((size_t)size + 1);
    if (data == NULL)
        die("out of memory reading %s", path);
    if (size > 0 && fread(data, 1, (size_t)size, f) != (size_t)size)
        die("cannot read %s: %s", path, ferror(f) ? strerror(errno) : "short read");
    fclose(f);
    data[size] = 0;
    *len_out = (size_t)size;
    return data;
}

int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}
