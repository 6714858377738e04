#include "echoproto.h"

#include <stdlib.h>
#include <string.h>

/* Frames of the echo protocol may not exceed this (the echo server's bound). */
#define ECHO_MAX_FRAME (16u << 20)

static struct {
    uint8_t *request;   /* one complete request frame, sent as is */
    uint32_t request_len;
    uint32_t response_len;
} echo;

int echo_setup(uint32_t request_bytes, uint32_t response_bytes)
{
    if (request_bytes < 5 || request_bytes > ECHO_MAX_FRAME || response_bytes < 5 || response_bytes > ECHO_MAX_FRAME) {
        log_msg("--request-bytes and --response-bytes must be 5..%u (they include the 4-byte length prefix)",
                ECHO_MAX_FRAME);
        return -1;
    }
    echo.request = malloc(request_bytes);
    if (echo.request == NULL)
        die("out of memory");
    uint32_t body = request_bytes - 4;
    echo.request[0] = (uint8_t)(body >> 24);
    echo.request[1] = (uint8_t)(body >> 16);
    echo.request[2] = (uint8_t)(body >> 8);
    echo.request[3] = (uint8_t)body;
    for (uint32_t i = 4; i < request_bytes; i++)
        echo.request[i] = (uint8_t)('a' + i % 26);
    echo.request_len = request_bytes;
    echo.response_len = response_bytes;
    return 0;
}

static int echo_connected(struct conn *c)
{
    engine_conn_ready(c);
    return 0;
}

static int echo_issue(struct conn *c, struct slot *s)
{
    (void)s;
    return conn_send(c, echo.request, echo.request_len);
}

static long echo_input(struct conn *c, const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (len - off >= 4) {
        uint32_t body = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
        if ((uint64_t)body + 4 != echo.response_len) {
            conn_fail(c, "echo response frame of %llu bytes, expected %u", (unsigned long long)body + 4,
                      echo.response_len);
            return -1;
        }
        if (len - off < (size_t)body + 4)
            break;
        struct slot *s = conn_slot_oldest(c);
        if (s == NULL) {
            conn_fail(c, "an echo response to no request");
            return -1;
        }
        s->rx_bytes = echo.response_len;
        engine_complete(c, s, 1);
        off += (size_t)body + 4;
    }
    return (long)off;
}

const struct proto echo_proto = {
    .name = "echo",
    .on_connected = echo_connected,
    .on_input = echo_input,
    .issue = echo_issue,
    .max_message = ECHO_MAX_FRAME,
};
