/* An allocation-free protobuf wire-format reader. The hot receive paths
 * (GetMetadata replies, watch events) only need a handful of fields (a stream
 * id, a status code, a job id, `current_task`), so they walk the encoding
 * instead of unpacking whole messages with protobuf-c, which would allocate
 * for every map entry of a 4 KiB job and make the load generator, not the
 * server, the bottleneck. protobuf-c still encodes every request and decodes
 * the rare messages (HelloAck, GoAway) and the full job once per run, as a
 * cross-check of this reader. */
#ifndef LOADGEN_PBWIRE_H
#define LOADGEN_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

struct pb_reader {
    const uint8_t *p;
    const uint8_t *end;
};

struct pb_field {
    uint32_t num;
    uint32_t wire;
    uint64_t u64;        /* PB_VARINT, PB_FIXED64, PB_FIXED32 */
    const uint8_t *data; /* PB_LEN */
    size_t len;          /* PB_LEN */
};

static inline struct pb_reader pb_reader(const uint8_t *p, size_t len)
{
    struct pb_reader r = { p, p + len };
    return r;
}

static inline int pb_varint(struct pb_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return 0;
        }
    }
    return -1; /* more than 10 bytes: malformed */
}

/* Reads the next field: 1 when one was read, 0 at the end of the message,
 * -1 when the encoding is malformed (truncated, bad wire type, field 0). */
static inline int pb_next(struct pb_reader *r, struct pb_field *f)
{
    if (r->p == r->end)
        return 0;
    uint64_t key;
    if (pb_varint(r, &key) != 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wire = (uint32_t)(key & 7);
    switch (f->wire) {
    case PB_VARINT:
        return pb_varint(r, &f->u64) == 0 ? 1 : -1;
    case PB_FIXED64:
        if (r->end - r->p < 8)
            return -1;
        f->u64 = 0;
        for (int i = 7; i >= 0; i--)
            f->u64 = (f->u64 << 8) | r->p[i];
        r->p += 8;
        return 1;
    case PB_FIXED32:
        if (r->end - r->p < 4)
            return -1;
        f->u64 = (uint64_t)r->p[0] | (uint64_t)r->p[1] << 8 | (uint64_t)r->p[2] << 16 | (uint64_t)r->p[3] << 24;
        r->p += 4;
        return 1;
    case PB_LEN: {
        uint64_t len;
        if (pb_varint(r, &len) != 0 || len > (uint64_t)(r->end - r->p))
            return -1;
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return 1;
    }
    default:
        return -1; /* groups (3, 4) and 6, 7 do not occur in proto3 */
    }
}

#endif
