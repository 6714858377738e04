/* Scenario (b), fan-out: one updater changes `jobs` jobs round robin at a
 * fixed total rate; `watchers` connections each follow one of them (JobWire:
 * WatchJob; Redis: SUBSCRIBE to one channel per job). Each update carries its
 * send time (CLOCK_MONOTONIC ns) and its number among its job's updates, as
 * the text "lg:<job>:<seq>:<send_ns>:" (JobWire: in `current_task`, which
 * the watch event carries back; Redis: at the start of the PUBLISH payload).
 * A watcher's delivery latency is its receive time minus that send time.
 *
 * Accounting: an update sent after the warm-up and acknowledged by the server
 * is expected to reach every watcher of its job once. `events_received`
 * counts those that did; `events_missed` = expected - received. A watcher also
 * counts the gaps it sees in its job's numbers (`events_collapsed`: a slow
 * watcher's pending changes are merged by the JobWire server), numbers that go
 * backwards or repeat (`events_out_of_order`), RESYNC and BOOKMARK events. */
#ifndef LOADGEN_FANOUT_H
#define LOADGEN_FANOUT_H

#include <stdint.h>

#include "engine.h"
#include "hist.h"

struct fanout_cfg {
    const char *label;
    int watchers;
    int jobs;
    double rate;            /* updates per second, all jobs together */
    double warmup_s;
    double seconds;
    double drain_s;
    uint32_t updater_depth; /* updates in flight at most */
    int watcher_role;
    int updater_role;
    int progress;
};

struct fanout_result {
    double seconds;         /* the measured sending window */
    double setup_s;         /* connecting the watchers until all watch */
    uint64_t updates_sent;  /* measured */
    uint64_t updates_acked; /* measured, acknowledged with success */
    uint64_t update_errors; /* all, warm-up included */
    uint64_t updates_lost;  /* never acknowledged (connection lost, drain timeout) */
    uint64_t updates_late;  /* measured updates sent more than 1 ms behind schedule */
    uint64_t updater_max_lag_ns; /* how late behind schedule an update went out at worst */
    uint64_t events_expected, events_received, events_missed;
    uint64_t events_collapsed, events_out_of_order, events_wrong_job, resyncs, bookmarks;
    uint64_t watchers_missing;   /* watchers that saw a gap, a resync or a reordering */
    uint64_t receivers_mismatch; /* Redis: PUBLISH reached another number of subscribers */
    uint64_t event_bytes;        /* payload of one event (mean) */
    uint64_t event_wire_bytes;   /* the event on the wire, framing included (mean) */
    double cpu_s;
    struct hist delivery;        /* update sent -> event received */
    struct hist update_ack;      /* update sent -> acknowledged */
};

/* Runs the scenario; the engine's protocol provides the two roles. */
void fanout_run(struct engine *e, const struct fanout_cfg *cfg, struct fanout_result *res);

/* For protocols. */
int fanout_watchers_of(uint32_t job);
/* A watcher's baseline from its first event (snapshot, subscription): the
 * last update number already included, 0 for none. */
void fanout_watch_started(struct conn *c, uint64_t last_seq);
void fanout_event(struct conn *c, uint32_t job, uint64_t seq, uint64_t sent_ns, uint64_t payload_bytes,
                  uint64_t wire_bytes);
void fanout_resync(struct conn *c, uint64_t seq);
void fanout_bookmark(struct conn *c);
/* The server answered the update in `s`; `receivers` is how many subscribers
 * a PUBLISH reached (Redis), -1 when the protocol does not say. */
void fanout_update_done(struct conn *c, struct slot *s, int ok, int64_t receivers);

/* Writes "lg:<job>:<seq>:<ns>:" into dst (at least FANOUT_TAG_MAX bytes);
 * returns its length. Parses the same; 0 on success, -1 when it is not one. */
#define FANOUT_TAG_MAX 64
int fanout_tag_write(char *dst, uint32_t job, uint64_t seq, uint64_t sent_ns);
int fanout_tag_parse(const uint8_t *p, size_t len, uint32_t *job, uint64_t *seq, uint64_t *sent_ns);

#endif
