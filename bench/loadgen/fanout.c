#include "fanout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    const struct fanout_cfg *cfg;
    struct fanout_result *res;
    struct run run;             /* the updater's requests */
    uint64_t warm_end_ns;
    uint32_t *next_seq;         /* per job: number of its next update */
    int *watchers_of;           /* per job */
    uint64_t payload_sum, wire_sum;
} fo;

int fanout_watchers_of(uint32_t job)
{
    return job < (uint32_t)fo.cfg->jobs ? fo.watchers_of[job] : 0;
}

int fanout_tag_write(char *dst, uint32_t job, uint64_t seq, uint64_t sent_ns)
{
    return snprintf(dst, FANOUT_TAG_MAX, "lg:%" PRIu32 ":%" PRIu64 ":%" PRIu64 ":", job, seq, sent_ns);
}

static int parse_u64(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *q = *p;
    if (q == end || *q < '0' || *q > '9')
        return -1;
    while (q < end && *q >= '0' && *q <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*q++ - '0');
    }
    if (q == end || *q != ':')
        return -1;
    *p = q + 1;
    *out = v;
    return 0;
}

int fanout_tag_parse(const uint8_t *p, size_t len, uint32_t *job, uint64_t *seq, uint64_t *sent_ns)
{
    const uint8_t *end = p + len;
    uint64_t j;
    if (len < 3 || memcmp(p, "lg:", 3) != 0)
        return -1;
    p += 3;
    if (parse_u64(&p, end, &j) != 0 || j > UINT32_MAX || parse_u64(&p, end, seq) != 0 ||
        parse_u64(&p, end, sent_ns) != 0)
        return -1;
    *job = (uint32_t)j;
    return 0;
}

void fanout_watch_started(struct conn *c, uint64_t last_seq)
{
    c->expect_seq = last_seq + 1;
    engine_conn_ready(c);
}

void fanout_event(struct conn *c, uint32_t job, uint64_t seq, uint64_t sent_ns, uint64_t payload_bytes,
                  uint64_t wire_bytes)
{
    uint64_t now = now_ns();
    struct fanout_result *r = fo.res;
    if (job != c->watch_job) {
        r->events_wrong_job++;
        err_report(&c->e->req_errs, "watcher %d of job %u got an event of job %u", c->index, c->watch_job, job);
        return;
    }
    if (seq < c->expect_seq) {
        r->events_out_of_order++;
        c->counter++;
        err_report(&c->e->req_errs, "watcher %d: update %" PRIu64 " of job %u after %" PRIu64, c->index, seq, job,
                   c->expect_seq - 1);
        return;
    }
    if (seq > c->expect_seq) {
        r->events_collapsed += seq - c->expect_seq;
        c->counter++;
    }
    c->expect_seq = seq + 1;
    if (sent_ns >= fo.warm_end_ns && sent_ns <= now) {
        r->events_received++;
        hist_record(&r->delivery, now - sent_ns);
        fo.payload_sum += payload_bytes;
        fo.wire_sum += wire_bytes;
    }
}

void fanout_resync(struct conn *c, uint64_t seq)
{
    fo.res->resyncs++;
    c->counter++;
    if (seq + 1 > c->expect_seq)
        c->expect_seq = seq + 1;
}

void fanout_bookmark(struct conn *c)
{
    (void)c;
    fo.res->bookmarks++;
}

void fanout_update_done(struct conn *c, struct slot *s, int ok, int64_t receivers)
{
    struct fanout_result *r = fo.res;
    uint32_t job = s->aux;
    if (ok) {
        if (s->measured) {
            r->updates_acked++;
            r->events_expected += (uint64_t)fanout_watchers_of(job);
            hist_record(&r->update_ack, now_ns() - s->sent_ns);
        }
        if (receivers >= 0 && receivers != fanout_watchers_of(job)) {
            r->receivers_mismatch++;
            err_report(&c->e->req_errs, "an update of job %u reached %" PRId64 " subscribers, expected %d", job,
                       receivers, fanout_watchers_of(job));
        }
    } else {
        r->update_errors++;
    }
    engine_complete(c, s, ok);
}

void fanout_run(struct engine *e, const struct fanout_cfg *cfg, struct fanout_result *res)
{
    memset(res, 0, sizeof *res);
    hist_init(&res->delivery);
    hist_init(&res->update_ack);
    memset(&fo, 0, sizeof fo);
    fo.cfg = cfg;
    fo.res = res;
    fo.next_seq = calloc((size_t)cfg->jobs, sizeof *fo.next_seq);
    fo.watchers_of = calloc((size_t)cfg->jobs, sizeof *fo.watchers_of);
    if (fo.next_seq == NULL || fo.watchers_of == NULL)
        die("out of memory");
    for (int j = 0; j < cfg->jobs; j++)
        fo.next_seq[j] = 1;

    /* The engine's run collects the updater's requests; nothing is measured
     * until the watchers are set up and the warm-up is over. */
    struct run *r = &fo.run;
    memset(r, 0, sizeof *r);
    hist_init(&r->hist);
    r->sending = 1;
    r->warm_end_ns = UINT64_MAX;
    fo.warm_end_ns = UINT64_MAX;
    e->run = r;

    uint64_t t_setup = now_ns();
    struct conn **updater = engine_open(e, 1, cfg->updater_role, cfg->updater_depth, 60);
    for (int w = 0; w < cfg->watchers; w++)
        fo.watchers_of[w % cfg->jobs]++;
    /* Watchers learn their job from their index (watch_job is set by the
     * protocol's on_connected from c->index % jobs). */
    struct conn **watchers = engine_open(e, cfg->watchers, cfg->watcher_role, 1, 120);
    res->setup_s = (double)(now_ns() - t_setup) / 1e9;
    log_msg("%s: %d watchers of %d jobs ready in %.2f s", cfg->label, cfg->watchers, cfg->jobs, res->setup_s);

    uint64_t start = now_ns();
    uint64_t interval = (uint64_t)(1e9 / cfg->rate);
    if (interval == 0)
        interval = 1;
    r->warm_end_ns = fo.warm_end_ns = start + (uint64_t)(cfg->warmup_s * 1e9);
    uint64_t stop = fo.warm_end_ns + (uint64_t)(cfg->seconds * 1e9);
    double cpu_warm = process_cpu_s();
    int warm_marked = cfg->warmup_s <= 0;
    uint64_t k = 0;              /* updates scheduled so far */
    uint64_t next_progress = start + NS_PER_SEC;
    uint64_t last_received = 0;
    uint64_t drain_deadline = 0;
    uint64_t next_check = 0;
    int sending = 1;
    struct conn *u = updater[0];
    for (;;) {
        uint64_t now = now_ns();
        if (!warm_marked && now >= fo.warm_end_ns) {
            cpu_warm = process_cpu_s();
            warm_marked = 1;
        }
        if (sending && now >= stop) {
            sending = 0;
            r->sending = 0;
            drain_deadline = now + (uint64_t)(cfg->drain_s * 1e9);
        }
        if (sending) {
            /* Send every update that is due. The send time in each is its
             * real send time, so lateness cannot hide delivery latency. */
            while (start + k * interval <= now && u->state == CONN_READY) {
                if (u->inflight >= u->depth)
                    break; /* at the in-flight limit: this update goes out late */
                uint64_t lag = now - (start + k * interval);
                if (start + k * interval >= fo.warm_end_ns) {
                    if (lag > res->updater_max_lag_ns)
                        res->updater_max_lag_ns = lag;
                    if (lag > 1000000)
                        res->updates_late++;
                }
                uint32_t job = (uint32_t)(k % (uint64_t)cfg->jobs);
                u->issue_job = job;
                u->issue_seq = fo.next_seq[job];
                if (engine_issue(u) != 0)
                    break;
                fo.next_seq[job]++;
                k++;
            }
        }
        if (u->state != CONN_READY) {
            log_msg("%s: the updater connection failed", cfg->label);
            break;
        }
        if (!sending) {
            /* Done when every update is acknowledged and every watcher has
             * seen (or skipped past) the last update of its job. Checked
             * every 10 ms: it walks all watchers. */
            if (r->inflight == 0 && now >= next_check) {
                next_check = now + 10000000;
                int behind = 0;
                for (int w = 0; w < cfg->watchers && !behind; w++)
                    behind = watchers[w]->state == CONN_READY &&
                             watchers[w]->expect_seq < fo.next_seq[watchers[w]->watch_job];
                if (!behind)
                    break;
            }
            if (now >= drain_deadline) {
                log_msg("%s: %.1f s after the last update, %llu update(s) unacknowledged and %llu event(s) not "
                        "delivered",
                        cfg->label, cfg->drain_s, (unsigned long long)r->inflight,
                        (unsigned long long)(res->events_expected > res->events_received
                                                 ? res->events_expected - res->events_received
                                                 : 0));
                r->lost += r->inflight;
                break;
            }
        }
        if (now >= next_progress) {
            if (cfg->progress)
                log_msg("%s: %.0f s, %llu updates sent, %llu events received, %llu/s in the last second",
                        cfg->label, (double)(now - start) / 1e9, (unsigned long long)r->issued,
                        (unsigned long long)res->events_received,
                        (unsigned long long)(res->events_received - last_received));
            last_received = res->events_received;
            next_progress += NS_PER_SEC;
        }
        uint64_t deadline = next_progress;
        if (sending) {
            uint64_t due = start + k * interval;
            if (u->inflight >= u->depth)
                due = now + 100000; /* in-flight limit: look again once acknowledgements came in */
            if (due < deadline)
                deadline = due;
            if (stop < deadline)
                deadline = stop;
        } else {
            if (drain_deadline < deadline)
                deadline = drain_deadline;
            if (r->inflight == 0 && next_check < deadline)
                deadline = next_check;
        }
        if (!warm_marked && fo.warm_end_ns < deadline)
            deadline = fo.warm_end_ns;
        engine_poll(e, deadline);
    }
    res->cpu_s = process_cpu_s() - cpu_warm;
    res->seconds = cfg->seconds;
    res->updates_sent = r->sent_measured;
    res->updates_lost = r->lost;
    res->events_missed = res->events_expected > res->events_received ? res->events_expected - res->events_received : 0;
    if (res->events_received > 0) {
        res->event_bytes = (fo.payload_sum + res->events_received / 2) / res->events_received;
        res->event_wire_bytes = (fo.wire_sum + res->events_received / 2) / res->events_received;
    }
    for (int w = 0; w < cfg->watchers; w++)
        if (watchers[w]->counter > 0 || watchers[w]->state == CONN_DEAD)
            res->watchers_missing++;
    engine_close(e, watchers, cfg->watchers);
    engine_close(e, updater, 1);
    e->run = NULL;
    free(fo.next_seq);
    free(fo.watchers_of);
}
