/* RESP2, the Redis protocol, for the Redis peer: GET and SET of job-sized
 * values and PUBLISH/SUBSCRIBE for the fan-out scenario. Replies arrive in
 * request order on a connection, so each completes the oldest request in
 * flight. A GET must return exactly the value stored (length and bytes), a SET
 * +OK; an error reply or a missing key is counted as an error. */
#ifndef LOADGEN_RESP_H
#define LOADGEN_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

extern const struct proto resp_proto;

enum resp_role {
    RESP_SEED,       /* SET job:<i> for i = 0, 1, ... */
    RESP_GET,        /* GET job:<random> */
    RESP_SET,        /* SET job:<random> */
    RESP_SUBSCRIBER, /* fan-out: SUBSCRIBE jw:<job>, then messages */
    RESP_PUBLISHER,  /* fan-out: PUBLISH jw:<job> carrying the send time */
};

/* `value` is what SET stores and GET must return; for PUBLISH only its size
 * counts. The buffer is kept. */
void resp_init(uint64_t rng_seed, uint32_t keys, const uint8_t *value, size_t value_len);
void resp_seed(struct engine *e, double *seconds);

#endif
