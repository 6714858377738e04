/* The result line: one JSON object on stdout, built field by field. */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

struct json {
    char buf[16384];
    size_t len;
    int fields;
    int overflow;
};

void json_begin(struct json *j);
void json_str(struct json *j, const char *key, const char *value);
void json_u64(struct json *j, const char *key, uint64_t value);
/* A number with `decimals` places; NaN and infinities become null. */
void json_num(struct json *j, const char *key, double value, int decimals);
/* <prefix>mean_us, p50_us, p90_us, p99_us, p999_us, max_us of a histogram. */
void json_latency(struct json *j, const char *prefix, const struct hist *h);
/* Prints the object as one line on stdout. */
void json_print(struct json *j);

#endif
