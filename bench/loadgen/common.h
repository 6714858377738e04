/* Small shared helpers of the load generator: monotonic clock, diagnostics on
 * stderr, and a bounded growable byte buffer. */
#ifndef LOADGEN_COMMON_H
#define LOADGEN_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NS_PER_SEC 1000000000ull

/* CLOCK_MONOTONIC in nanoseconds. Every latency in the load generator is a
 * difference of two readings of this clock taken in this process. */
static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Messages for people go to stderr; stdout carries only the JSON result. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports an error at most `limit` times per counter, then once says that
 * further ones are only counted, so a failing run cannot flood stderr. */
struct err_limiter {
    uint64_t seen;
    const char *what;
};
void err_report(struct err_limiter *lim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A byte buffer with a hard upper bound: data lives in [off, off+len). */
struct buf {
    uint8_t *data;
    size_t off;
    size_t len;
    size_t cap;
    size_t max;  /* growth beyond this fails */
};

/* Make room for `extra` more bytes after the data; 0 on success, -1 when the
 * buffer would exceed its bound or memory runs out. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
/* Drop `n` bytes from the front. */
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);
static inline uint8_t *buf_head(struct buf *b) { return b->data + b->off; }
static inline uint8_t *buf_tail(struct buf *b) { return b->data + b->off + b->len; }

/* xorshift64*: fast, good enough to pick uniformly random keys. */
static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
/* Uniform in [0, n) without modulo bias worth caring about (n << 2^64). */
static inline uint32_t rng_below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((rng_next(state) >> 32) * (uint64_t)n) >> 32);
}

/* Reads a whole file (at most `max` bytes) into a malloc'd buffer. */
uint8_t *read_file(const char *path, size_t max, size_t *len_out);
int write_file(const char *path, const void *data, size_t len);

#endif
