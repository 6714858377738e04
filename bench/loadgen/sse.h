/* JobWire's HTTP port for the fan-out scenario (--mode ssefanout): watchers
 * follow one job each with `GET /v1/jobs/{id}/events` (Server-Sent Events,
 * chunked), the updater sends `PATCH /v1/jobs/{id}` with the send-time tag
 * in `current_task` on one keep-alive connection, pipelined up to its depth.
 * The jobs are the ones jobwire_seed() made through the binary port. */
#ifndef LOADGEN_SSE_H
#define LOADGEN_SSE_H

#include "engine.h"

enum sse_role {
    SSE_WATCHER = 1,
    SSE_UPDATER,
};

extern const struct proto sse_proto;

#endif
