#include "resp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"

enum { RESP_MAX_ELEMS = 4 };

static struct {
    const uint8_t *value;
    size_t value_len;
    uint32_t keys;
    uint64_t rng;
    uint8_t *payload;   /* PUBLISH payload: a tag, then padding to value_len */
} rs;

void resp_init(uint64_t rng_seed, uint32_t keys, const uint8_t *value, size_t value_len)
{
    rs.rng = rng_seed ? rng_seed : 0x9e3779b97f4a7c15ull;
    rs.keys = keys ? keys : 1;
    rs.value = value;
    rs.value_len = value_len;
    rs.payload = malloc(value_len + FANOUT_TAG_MAX);
    if (rs.payload == NULL)
        die("out of memory");
    memset(rs.payload, 'x', value_len + FANOUT_TAG_MAX);
}

/* ---- requests ---- */

/* Appends a command: an array of bulk strings; the last may be `value`. */
static int send_command(struct conn *c, int argc, const char *const *argv, const uint8_t *value, size_t value_len)
{
    char head[256];
    int total = argc + (value != NULL);
    int n = snprintf(head, sizeof head, "*%d\r\n", total);
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        int m = snprintf(head + n, sizeof head - (size_t)n, "$%zu\r\n%s\r\n", len, argv[i]);
        if (m < 0 || (size_t)m >= sizeof head - (size_t)n)
            return -1;
        n += m;
    }
    if (value != NULL) {
        int m = snprintf(head + n, sizeof head - (size_t)n, "$%zu\r\n", value_len);
        if (m < 0 || (size_t)m >= sizeof head - (size_t)n)
            return -1;
        n += m;
    }
    uint8_t *p = conn_out_reserve(c, (size_t)n + (value ? value_len + 2 : 0));
    if (p == NULL)
        return -1;
    memcpy(p, head, (size_t)n);
    size_t len = (size_t)n;
    if (value != NULL) {
        memcpy(p + len, value, value_len);
        memcpy(p + len + value_len, "\r\n", 2);
        len += value_len + 2;
    }
    conn_out_commit(c, len);
    return 0;
}

static int resp_issue(struct conn *c, struct slot *s)
{
    char key[32];
    switch (c->role) {
    case RESP_SEED:
    case RESP_SET:
    case RESP_GET: {
        s->aux = c->role == RESP_SEED ? (uint32_t)c->e->run->issued : rng_below(&rs.rng, rs.keys);
        snprintf(key, sizeof key, "job:%" PRIu32, s->aux);
        if (c->role == RESP_GET) {
            const char *argv[] = { "GET", key };
            return send_command(c, 2, argv, NULL, 0);
        }
        const char *argv[] = { "SET", key };
        return send_command(c, 2, argv, rs.value, rs.value_len);
    }
    case RESP_PUBLISHER: {
        /* The payload is as large as the JobWire watch event and starts
         * with the tag; the tag is written over the padding each time. */
        s->aux = c->issue_job;
        char tag[FANOUT_TAG_MAX];
        int n = fanout_tag_write(tag, c->issue_job, c->issue_seq, now_ns());
        size_t len = rs.value_len > (size_t)n ? rs.value_len : (size_t)n;
        memcpy(rs.payload, tag, (size_t)n);
        snprintf(key, sizeof key, "jw:%" PRIu32, c->issue_job);
        const char *argv[] = { "PUBLISH", key };
        int rc = send_command(c, 2, argv, rs.payload, len);
        memset(rs.payload, 'x', (size_t)n);
        return rc;
    }
    default:
        return -1;
    }
}

static int resp_connected(struct conn *c)
{
    if (c->role != RESP_SUBSCRIBER) {
        engine_conn_ready(c);
        return 0;
    }
    c->watch_job = (uint32_t)c->index % rs.keys;
    char chan[32];
    snprintf(chan, sizeof chan, "jw:%" PRIu32, c->watch_job);
    const char *argv[] = { "SUBSCRIBE", chan };
    return send_command(c, 2, argv, NULL, 0);
}

/* ---- replies ---- */

struct resp_value {
    char type;            /* + - : $ * */
    int64_t num;          /* ':' value, '$' and '*' length (-1: null) */
    const uint8_t *str;   /* + - $ */
    size_t len;
    int nelems;           /* '*' */
    struct resp_value *elems;
};

/* Parses one line ending in CRLF at p; returns the bytes up to and including
 * the CRLF, 0 when incomplete, -1 when malformed. */
static long parse_line(const uint8_t *p, size_t len, const uint8_t **end)
{
    const uint8_t *cr = memchr(p, '\r', len);
    if (cr == NULL)
        return len > 65536 ? -1 : 0;
    if ((size_t)(cr - p) + 1 >= len)
        return 0;
    if (cr[1] != '\n')
        return -1;
    *end = cr;
    return (long)(cr - p) + 2;
}

static int parse_int(const uint8_t *p, const uint8_t *end, int64_t *out)
{
    int neg = 0;
    int64_t v = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p == end)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* One value (arrays: of scalars, at most RESP_MAX_ELEMS). Returns the bytes
 * it takes, 0 when incomplete, -1 when malformed or beyond `max_bulk`. */
static long parse_value(const uint8_t *p, size_t len, struct resp_value *v, struct resp_value *elems, size_t max_bulk)
{
    if (len == 0)
        return 0;
    const uint8_t *end;
    long line = parse_line(p, len, &end);
    if (line <= 0)
        return line;
    v->type = (char)p[0];
    switch (v->type) {
    case '+':
    case '-':
        v->str = p + 1;
        v->len = (size_t)(end - p - 1);
        return line;
    case ':':
        return parse_int(p + 1, end, &v->num) == 0 ? line : -1;
    case '$':
        if (parse_int(p + 1, end, &v->num) != 0 || v->num < -1 || v->num > (int64_t)max_bulk)
            return -1;
        if (v->num == -1)
            return line;
        if ((size_t)line + (size_t)v->num + 2 > len)
            return 0;
        if (p[line + v->num] != '\r' || p[line + v->num + 1] != '\n')
            return -1;
        v->str = p + line;
        v->len = (size_t)v->num;
        return line + (long)v->num + 2;
    case '*': {
        if (elems == NULL || parse_int(p + 1, end, &v->num) != 0 || v->num < -1 || v->num > RESP_MAX_ELEMS)
            return -1;
        v->nelems = v->num < 0 ? 0 : (int)v->num;
        v->elems = elems;
        long off = line;
        for (int i = 0; i < v->nelems; i++) {
            long n = parse_value(p + off, len - (size_t)off, &elems[i], NULL, max_bulk);
            if (n <= 0)
                return n;
            off += n;
        }
        return off;
    }
    default:
        return -1;
    }
}

static int is_str(const struct resp_value *v, const char *s)
{
    size_t n = strlen(s);
    return (v->type == '$' || v->type == '+') && v->len == n && memcmp(v->str, s, n) == 0;
}

static int on_subscriber_value(struct conn *c, const struct resp_value *v, size_t bytes)
{
    if (v->type != '*' || v->nelems != 3) {
        conn_fail(c, "a subscriber got a reply that is not a 3-element array (type %c)", v->type);
        return -1;
    }
    const struct resp_value *e = v->elems;
    if (is_str(&e[0], "subscribe")) {
        if (c->state != CONN_HANDSHAKE) {
            conn_fail(c, "a second subscribe confirmation");
            return -1;
        }
        fanout_watch_started(c, 0);
        return 0;
    }
    if (is_str(&e[0], "message") && e[2].type == '$' && e[2].num >= 0) {
        uint32_t job;
        uint64_t seq, sent;
        if (fanout_tag_parse(e[2].str, e[2].len, &job, &seq, &sent) != 0) {
            conn_fail(c, "a message without an update tag");
            return -1;
        }
        fanout_event(c, job, seq, sent, e[2].len, bytes);
        return 0;
    }
    conn_fail(c, "a subscriber got an unexpected %.*s", (int)(e[0].len < 32 ? e[0].len : 32),
              e[0].type == '$' || e[0].type == '+' ? (const char *)e[0].str : "?");
    return -1;
}

static long resp_input(struct conn *c, const uint8_t *p, size_t len)
{
    size_t off = 0;
    size_t max_bulk = rs.value_len + FANOUT_TAG_MAX;
    while (off < len) {
        struct resp_value v, elems[RESP_MAX_ELEMS];
        memset(&v, 0, sizeof v);
        long n = parse_value(p + off, len - off, &v, elems, max_bulk);
        if (n == 0)
            break;
        if (n < 0) {
            conn_fail(c, "a malformed or unexpected RESP reply");
            return -1;
        }
        off += (size_t)n;
        if (c->role == RESP_SUBSCRIBER) {
            if (on_subscriber_value(c, &v, (size_t)n) != 0)
                return -1;
            continue;
        }
        struct slot *s = conn_slot_oldest(c);
        if (s == NULL) {
            conn_fail(c, "a reply to no request");
            return -1;
        }
        s->rx_bytes = (uint32_t)n;
        int ok;
        if (v.type == '-') {
            err_report(&c->e->req_errs, "error reply: %.*s", (int)(v.len < 200 ? v.len : 200), (const char *)v.str);
            ok = 0;
        } else if (c->role == RESP_GET) {
            ok = v.type == '$' && v.num >= 0 && v.len == rs.value_len && memcmp(v.str, rs.value, v.len) == 0;
            if (!ok)
                err_report(&c->e->req_errs, "GET job:%u returned %s", s->aux,
                           v.type == '$' && v.num < 0 ? "nothing (no such key)" : "another value than stored");
        } else if (c->role == RESP_PUBLISHER) {
            if (v.type != ':') {
                conn_fail(c, "PUBLISH answered with type %c, not an integer", v.type);
                return -1;
            }
            fanout_update_done(c, s, 1, v.num);
            continue;
        } else {
            ok = is_str(&v, "OK") && v.type == '+';
            if (!ok)
                err_report(&c->e->req_errs, "SET answered with type %c, not +OK", v.type);
        }
        if (c->role == RESP_PUBLISHER)
            fanout_update_done(c, s, ok, -1);
        else
            engine_complete(c, s, ok);
    }
    return (long)off;
}

const struct proto resp_proto = {
    .name = "resp",
    .on_connected = resp_connected,
    .on_input = resp_input,
    .issue = resp_issue,
    /* Bounds the input buffer only; parse_value refuses any bulk string
     * longer than the value (plus tag), so a pending reply stays that small. */
    .max_message = 64u << 20,
};

void resp_seed(struct engine *e, double *seconds)
{
    uint64_t t0 = now_ns();
    struct conn **cs = engine_open(e, 1, RESP_SEED, 64, 30);
    struct closed_loop_spec spec = { .depth = 64, .seconds = 600, .max_requests = rs.keys, .drain_s = 30,
                                     .label = "seeding" };
    struct run run;
    struct closed_loop_result res;
    engine_closed_loop(e, cs, 1, &spec, &run, &res);
    if (run.ok != rs.keys || run.errors || run.lost)
        die("seeding %u keys failed: %llu set, %llu errors, %llu lost", rs.keys, (unsigned long long)run.ok,
            (unsigned long long)run.errors, (unsigned long long)run.lost);
    engine_close(e, cs, 1);
    e->run = NULL;
    *seconds = (double)(now_ns() - t0) / 1e9;
    log_msg("set %u keys of %zu bytes in %.2f s", rs.keys, rs.value_len, *seconds);
}
