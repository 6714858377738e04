/* The JobWire protocol (docs/PROTOCOL.md): 4-byte big-endian length-prefixed
 * protobuf `Frame`s, a Hello/HelloAck handshake, calls multiplexed by stream
 * id, each ending with an `End` carrying its status.
 *
 * Requests are encoded with protobuf-c (the generated code in
 * Sources/CJobWireProto). Replies are checked with pbwire.h: every reply's
 * stream must be open, every job returned must be the one asked for, every
 * End's status must be OK, and an OK unary call must have had its Reply;
 * anything else is counted as an error. Pings are answered; a GoAway fails
 * the connection with its status. */
#ifndef LOADGEN_JOBWIRE_H
#define LOADGEN_JOBWIRE_H

#include <stdint.h>

#include "engine.h"

extern const struct proto jobwire_proto;

enum jobwire_role {
    JW_SEED,     /* Configure of the realistic das_stream job, collecting ids */
    JW_PROBE,    /* one GetMetadata, keeping the reply */
    JW_GET,      /* GetMetadata of a uniformly random id */
    JW_CREATE,   /* Configure of a small job */
    JW_UPDATE,   /* UpdateJob (progress), ids round robin */
    JW_WATCHER,  /* fan-out: WatchJob of one job, then its events */
    JW_UPDATER,  /* fan-out: UpdateJob carrying the send time in current_task */
};

void jobwire_init(uint64_t rng_seed, uint32_t timeout_ms);
/* Fan-out watchers use WatchJobs (a list-watch whose query is their job's id)
 * instead of WatchJob. */
void jobwire_use_list_watch(void);
/* Job ids, one per line, instead of seeding. */
void jobwire_load_ids(const char *path);
/* Seeds n jobs over one pipelined connection; dies unless all are created. */
void jobwire_seed(struct engine *e, uint32_t n, double *seconds);
uint32_t jobwire_job_count(void);
/* The id of a seeded (or loaded) job, by index. */
const char *jobwire_job_id(uint32_t index);

/* GetMetadata of the first job: its encoded Job (Reply.message) and the
 * sizes of the request and the response on the wire. */
struct jobwire_probe {
    uint8_t *job;
    size_t job_len;
    uint32_t request_bytes;
    uint32_t response_bytes;
};
void jobwire_probe(struct engine *e, struct jobwire_probe *out);

#endif
