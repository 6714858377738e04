/* The raw echo protocol: the physical limit of one request/response
 * exchange over loopback TCP with this engine.
 *
 * Framing (the same as JobWire's, without protobuf): a frame is a 4-byte
 * big-endian length L, then L bytes. A request frame is --request-bytes long
 * on the wire (L = request_bytes - 4, bytes of no meaning); the server
 * (bench/echo) answers each with one frame --response-bytes long on the wire.
 * Set both to a GetMetadata run's request_bytes and response_bytes. */
#ifndef LOADGEN_ECHOPROTO_H
#define LOADGEN_ECHOPROTO_H

#include <stdint.h>

#include "engine.h"

extern const struct proto echo_proto;
/* Both sizes count the 4-byte prefix; each must be at least 5. */
int echo_setup(uint32_t request_bytes, uint32_t response_bytes);

#endif
