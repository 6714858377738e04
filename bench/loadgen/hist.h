/* Latency histogram in the manner of HdrHistogram: log-linear buckets over
 * nanoseconds. Below 256 ns every value has its own bucket; above, each
 * power-of-two range [2^m, 2^(m+1)) is split into 128 equal buckets, so a
 * bucket is at most 1/128 (0.78 %) of its values wide. The range ends at
 * 2^36 ns (68.7 s, above the required 60 s); longer values are clamped into
 * the last bucket and counted in `clamped`. Recording is O(1) and allocation
 * free; the whole histogram is 30 KiB. */
#ifndef LOADGEN_HIST_H
#define LOADGEN_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7                                 /* 128 sub-buckets per octave */
#define HIST_LINEAR (1u << (HIST_SUB_BITS + 1))         /* 256 exact buckets */
#define HIST_MAX_MSB 35                                 /* values < 2^36 ns */
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_MSB - HIST_SUB_BITS) * (1u << HIST_SUB_BITS))

struct hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t clamped;
    uint64_t min_ns;
    uint64_t max_ns;   /* exact, not bucketed */
    double sum_ns;
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q in [0, 1], in ns: the highest value of the bucket
 * that holds the q-th recorded value, capped at the exact maximum (as
 * HdrHistogram reports it). 0 when the histogram is empty. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);

#endif
