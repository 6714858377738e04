#include "sse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "jobwire.h"

/* Parser state kept in struct conn fields the protocol owns: `counter` is
 * used by the fan-out accounting, so the HTTP state lives in these bits of
 * `max_frame` (unused by this protocol). */
#define HEAD_DONE 1u

static const uint8_t *find(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || len < n)
        return NULL;
    for (size_t i = 0; i + n <= len; i++)
        if (p[i] == (uint8_t)needle[0] && memcmp(p + i, needle, n) == 0)
            return p + i;
    return NULL;
}

static int sse_connected(struct conn *c)
{
    c->max_frame = 0;
    if (c->role == SSE_UPDATER) {
        engine_conn_ready(c);
        return 0;
    }
    c->watch_job = (uint32_t)c->index % jobwire_job_count();
    char request[256];
    int n = snprintf(request, sizeof request, "GET /v1/jobs/%s/events HTTP/1.1\r\nHost: loadgen\r\n\r\n",
                     jobwire_job_id(c->watch_job));
    return conn_send(c, request, (size_t)n);
}

/* `"current_task":"<tag>"` of an event's data, parsed as the fan-out tag. */
static int event_tag(const uint8_t *data, size_t len, uint32_t *job, uint64_t *seq, uint64_t *sent)
{
    const uint8_t *task = find(data, len, "\"current_task\":\"");
    if (task == NULL)
        return -1;
    task += strlen("\"current_task\":\"");
    const uint8_t *end = memchr(task, '"', (size_t)(data + len - task));
    if (end == NULL)
        return -1;
    return fanout_tag_parse(task, (size_t)(end - task), job, seq, sent);
}

/* One SSE event (the bytes up to its blank line). */
static int on_event(struct conn *c, const uint8_t *p, size_t len, size_t wire_bytes)
{
    const uint8_t *name = find(p, len, "event: ");
    const uint8_t *data = find(p, len, "data: ");
    if (name == NULL)
        return 0; /* `retry:` advice or a heartbeat comment */
    name += strlen("event: ");
    size_t name_len = (size_t)((const uint8_t *)memchr(name, '\n', (size_t)(p + len - name)) - name);
    size_t data_len = data == NULL ? 0 : (size_t)(p + len - data);
    uint32_t job = 0;
    uint64_t seq = 0, sent = 0;
    int tagged = data != NULL && event_tag(data, data_len, &job, &seq, &sent) == 0;
    if (name_len == 8 && memcmp(name, "snapshot", 8) == 0) {
        if (c->state != CONN_HANDSHAKE) {
            conn_fail(c, "a second snapshot event");
            return -1;
        }
        fanout_watch_started(c, tagged ? seq : 0);
    } else if (name_len == 6 && memcmp(name, "change", 6) == 0) {
        if (c->state != CONN_READY || !tagged) {
            conn_fail(c, "a change event %s", c->state != CONN_READY ? "before the snapshot" : "without an update tag");
            return -1;
        }
        fanout_event(c, job, seq, sent, data_len, wire_bytes);
    } else if (name_len == 6 && memcmp(name, "resync", 6) == 0) {
        if (c->state == CONN_HANDSHAKE)
            fanout_watch_started(c, tagged ? seq : 0);
        fanout_resync(c, tagged ? seq : 0);
    } else if (name_len == 8 && memcmp(name, "bookmark", 8) == 0) {
        fanout_bookmark(c);
    } else {
        conn_fail(c, "an event %.*s", (int)name_len, (const char *)name);
        return -1;
    }
    return 0;
}

/* The watcher's input: the response head, then chunks (SwiftNIO writes each
 * event as a chunk of its own), each holding whole events. */
static long watcher_input(struct conn *c, const uint8_t *p, size_t len)
{
    size_t used = 0;
    if (!(c->max_frame & HEAD_DONE)) {
        const uint8_t *end = find(p, len, "\r\n\r\n");
        if (end == NULL)
            return 0;
        if (len < 12 || memcmp(p, "HTTP/1.1 200", 12) != 0) {
            conn_fail(c, "the event stream answered %.*s", (int)(len < 40 ? len : 40), (const char *)p);
            return -1;
        }
        c->max_frame |= HEAD_DONE;
        used = (size_t)(end - p) + 4;
    }
    for (;;) {
        const uint8_t *q = p + used;
        size_t left = len - used;
        const uint8_t *line_end = find(q, left, "\r\n");
        if (line_end == NULL)
            return (long)used;
        char *after;
        unsigned long size = strtoul((const char *)q, &after, 16);
        if ((const uint8_t *)after != line_end) {
            conn_fail(c, "a malformed chunk size");
            return -1;
        }
        size_t head = (size_t)(line_end - q) + 2;
        if (size == 0) {
            conn_fail(c, "the event stream ended");
            return -1;
        }
        if (left < head + size + 2)
            return (long)used;
        const uint8_t *chunk = q + head;
        size_t at = 0;
        while (at < size) {
            const uint8_t *blank = find(chunk + at, size - at, "\n\n");
            size_t event_len = blank == NULL ? size - at : (size_t)(blank - (chunk + at)) + 1;
            if (on_event(c, chunk + at, event_len, head + size + 2) != 0)
                return -1;
            at += event_len + (blank == NULL ? 0 : 1);
        }
        used += head + size + 2;
    }
}

/* The updater's input: whole responses (head and content-length body), in request order. */
static long updater_input(struct conn *c, const uint8_t *p, size_t len)
{
    size_t used = 0;
    for (;;) {
        const uint8_t *q = p + used;
        size_t left = len - used;
        const uint8_t *end = find(q, left, "\r\n\r\n");
        if (end == NULL)
            return (long)used;
        size_t head = (size_t)(end - q) + 4;
        const uint8_t *length = find(q, head, "content-length: ");
        if (length == NULL) {
            conn_fail(c, "a response without content-length");
            return -1;
        }
        size_t body = (size_t)strtoul((const char *)length + strlen("content-length: "), NULL, 10);
        if (left < head + body)
            return (long)used;
        struct slot *s = conn_slot_oldest(c);
        if (s == NULL) {
            conn_fail(c, "a response to no request");
            return -1;
        }
        int ok = left >= 12 && memcmp(q, "HTTP/1.1 200", 12) == 0;
        if (!ok)
            err_report(&c->e->req_errs, "PATCH answered %.*s", (int)(head + body < 300 ? head + body : 300), (const char *)q);
        s->rx_bytes += (uint32_t)(head + body);
        fanout_update_done(c, s, ok, -1);
        used += head + body;
    }
}

static long sse_input(struct conn *c, const uint8_t *p, size_t len)
{
    return c->role == SSE_UPDATER ? updater_input(c, p, len) : watcher_input(c, p, len);
}

static int sse_issue(struct conn *c, struct slot *s)
{
    char tag[FANOUT_TAG_MAX];
    fanout_tag_write(tag, c->issue_job, c->issue_seq, now_ns());
    char body[FANOUT_TAG_MAX + 32];
    int body_len = snprintf(body, sizeof body, "{\"current_task\":\"%s\"}", tag);
    char request[512];
    int n = snprintf(request, sizeof request,
                     "PATCH /v1/jobs/%s HTTP/1.1\r\nHost: loadgen\r\ncontent-type: application/json\r\n"
                     "content-length: %d\r\n\r\n%s",
                     jobwire_job_id(c->issue_job), body_len, body);
    s->tx_bytes = (uint32_t)n;
    return conn_send(c, request, (size_t)n);
}

const struct proto sse_proto = {
    .name = "jobwire-http",
    .on_connected = sse_connected,
    .on_input = sse_input,
    .issue = sse_issue,
    .max_message = 1u << 20,
};
