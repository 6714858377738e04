#include "hist.h"

#include <math.h>
#include <string.h>

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_ns = UINT64_MAX;
}

static uint32_t bucket_of(uint64_t v)
{
    if (v < HIST_LINEAR)
        return (uint32_t)v;
    uint32_t msb = 63u - (uint32_t)__builtin_clzll(v);
    uint32_t shift = msb - HIST_SUB_BITS;
    uint32_t sub = (uint32_t)(v >> shift) - (1u << HIST_SUB_BITS);
    return HIST_LINEAR + (msb - (HIST_SUB_BITS + 1)) * (1u << HIST_SUB_BITS) + sub;
}

/* Highest value that falls into bucket `i`. */
static uint64_t bucket_high(uint32_t i)
{
    if (i < HIST_LINEAR)
        return i;
    uint32_t k = i - HIST_LINEAR;
    uint32_t msb = k / (1u << HIST_SUB_BITS) + HIST_SUB_BITS + 1;
    uint32_t sub = k % (1u << HIST_SUB_BITS) + (1u << HIST_SUB_BITS);
    uint32_t shift = msb - HIST_SUB_BITS;
    return (((uint64_t)sub + 1) << shift) - 1;
}

void hist_record(struct hist *h, uint64_t ns)
{
    uint64_t limit = (1ull << (HIST_MAX_MSB + 1)) - 1;
    if (ns > limit) {
        h->counts[HIST_BUCKETS - 1]++;
        h->clamped++;
    } else {
        h->counts[bucket_of(ns)]++;
    }
    h->total++;
    h->sum_ns += (double)ns;
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    for (uint32_t i = 0; i < HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    into->clamped += from->clamped;
    into->sum_ns += from->sum_ns;
    if (from->min_ns < into->min_ns)
        into->min_ns = from->min_ns;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (h->total == 0)
        return 0;
    if (q >= 1.0)
        return h->max_ns;
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = bucket_high(i);
            if (v > h->max_ns)
                v = h->max_ns;
            if (v < h->min_ns)
                v = h->min_ns;
            return v;
        }
    }
    return h->max_ns;
}

double hist_mean(const struct hist *h)
{
    return h->total ? h->sum_ns / (double)h->total : 0.0;
}
