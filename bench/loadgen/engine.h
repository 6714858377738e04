/* The load generator's engine: one thread, one epoll set, non-blocking
 * TCP_NODELAY connections to a loopback address, and a closed-loop driver
 * that keeps `depth` requests in flight on every connection.
 *
 * A protocol (JobWire, RESP, echo) plugs in through `struct proto`: it
 * queues its handshake when a connection comes up, encodes one request into
 * the connection's output buffer when the engine asks, and parses whatever
 * arrives, telling the engine which request each response completes. The
 * engine does the socket work, the timing and the accounting, so the three
 * protocols are measured by exactly the same code. */
#ifndef LOADGEN_ENGINE_H
#define LOADGEN_ENGINE_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common.h"
#include "hist.h"

struct conn;
struct engine;

/* One request in flight. */
struct slot {
    uint64_t sent_ns;
    uint32_t tag;       /* per-connection request number; JobWire's stream id */
    uint32_t aux;       /* the protocol's: e.g. the index of the key asked for */
    uint32_t tx_bytes;  /* request bytes on the wire */
    uint32_t rx_bytes;  /* response bytes on the wire, added by the protocol */
    uint8_t used;
    uint8_t measured;   /* sent after the warm-up: goes into the statistics */
    uint8_t got_reply;  /* JobWire: a Reply arrived before the End */
};

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY, CONN_DEAD };

struct conn {
    struct engine *e;
    int fd;
    int index;              /* position within the group opened together */
    int role;               /* the protocol's: what this connection does */
    enum conn_state state;
    struct buf in;          /* bytes of an incomplete message only */
    struct buf out;         /* bytes not yet accepted by the kernel */
    int epoll_out;          /* EPOLLOUT is armed */
    int dirty;              /* on the engine's flush list */
    int draining;           /* the server said GoAway: no new requests; fails once idle */
    struct conn *next_dirty;
    SSL *ssl;               /* with --tls-ca: the connection's TLS */
    int tls_handshaking;    /* the TLS handshake runs before the protocol's */

    struct slot *slots;
    uint32_t depth;         /* capacity of `slots` */
    uint32_t inflight;
    uint32_t next_tag;

    /* Protocol state that several protocols need. */
    uint32_t max_streams;   /* JobWire: HelloAck.max_concurrent_streams */
    uint32_t max_frame;     /* JobWire: HelloAck.max_frame_bytes */
    uint32_t watch_job;     /* fan-out watcher: which job or channel */
    uint64_t expect_seq;    /* fan-out watcher: next update number expected */
    uint64_t counter;       /* free for the protocol (e.g. progress value) */
    uint32_t issue_job;     /* fan-out updater: job of the next update, set before engine_issue */
    uint32_t issue_seq;     /* fan-out updater: its number among that job's updates */
};

struct proto {
    const char *name;
    /* The TCP connection is up: queue the handshake (conn_out_*) and call
     * engine_conn_ready() now or when the handshake completes. 0 or -1. */
    int (*on_connected)(struct conn *c);
    /* Parse complete messages from `p`; return the bytes consumed (the rest
     * is kept for the next call) or -1 after conn_fail(). */
    long (*on_input)(struct conn *c, const uint8_t *p, size_t len);
    /* Encode one request for slot `s` into the output buffer; 0 or -1. */
    int (*issue)(struct conn *c, struct slot *s);
    /* The largest message the protocol may receive; bounds the input buffer. */
    size_t max_message;
};

/* The current measurement: counts and latencies of requests sent in it. */
struct run {
    int closed_loop;        /* issue a new request when one completes */
    uint64_t warm_end_ns;   /* requests sent before are not measured */
    uint64_t stop_ns;       /* no requests are issued from then on; 0: none */
    uint64_t max_measured;  /* stop after sending this many measured; 0: none */
    int sending;

    uint64_t issued;        /* all requests issued in this run */
    uint64_t sent_measured;
    uint64_t inflight;
    uint64_t ok;            /* measured requests answered with success */
    uint64_t errors;        /* requests answered with an error (all, warm-up too) */
    uint64_t lost;          /* requests whose connection was lost or that were never answered */
    uint64_t warmup_ok;
    uint64_t tx_bytes, rx_bytes;  /* of measured successful requests */
    uint64_t last_done_ns;
    struct hist hist;
};

struct engine {
    int epfd;
    const struct proto *proto;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int source_ips;         /* spread IPv4 connections over 127.0.0.1..N */
    int connect_batch;      /* connections in progress at once when opening */
    uint8_t *scratch;
    size_t scratch_cap;
    struct conn *dirty_head;
    struct run *run;
    uint64_t conns_open;
    uint64_t conn_failures;
    struct err_limiter conn_errs;
    struct err_limiter req_errs;
    SSL_CTX *tls;           /* non-NULL: every connection speaks TLS (engine_use_tls) */
};

/* Parses a numeric loopback address (127.0.0.0/8 or ::1; "localhost" means
 * 127.0.0.1); refuses anything else. */
int engine_init(struct engine *e, const struct proto *proto, const char *host, int port);
/* Every connection of `e` speaks TLS 1.2+ (OpenSSL), the server's certificate
 * checked against the CAs in `ca_file` and the loopback address connected to. */
int engine_use_tls(struct engine *e, const char *ca_file);
/* Raises RLIMIT_NOFILE to hold `fds` descriptors; dies with a clear message
 * when that is impossible. */
void engine_need_fds(uint64_t fds);

/* Opens n connections with role `role` and `depth` request slots each,
 * runs them through their handshake, and returns when all are ready. Dies
 * when one fails or the setup takes longer than `timeout_s`. */
struct conn **engine_open(struct engine *e, int n, int role, uint32_t depth, double timeout_s);
void engine_close(struct engine *e, struct conn **conns, int n);
/* One epoll wait (until `deadline_ns` at most) and the work it brings. */
void engine_poll(struct engine *e, uint64_t deadline_ns);

/* For protocols. */
void engine_conn_ready(struct conn *c);
void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint8_t *conn_out_reserve(struct conn *c, size_t n);   /* NULL: output bound exceeded */
void conn_out_commit(struct conn *c, size_t n);
int conn_send(struct conn *c, const void *data, size_t len);
struct slot *conn_slot_by_tag(struct conn *c, uint32_t tag);
struct slot *conn_slot_oldest(struct conn *c);
/* A request is answered: success or error (counted, never dropped). */
void engine_complete(struct conn *c, struct slot *s, int ok);
/* A request will never be answered (e.g. not accepted before a GoAway). */
void engine_lose(struct conn *c, struct slot *s);
/* Stop issuing on c; it is failed with `why` once its requests are done. */
void conn_drain(struct conn *c, const char *why);
/* Issues one request on c; 0, or -1 when the connection has failed. */
int engine_issue(struct conn *c);

/* Closed-loop measurement over conns: keeps depth requests in flight each
 * until `seconds` after the warm-up, or `max_requests` measured requests,
 * whichever comes first (0 disables either), then waits up to `drain_s`
 * for the requests still in flight; those not answered by then are lost. */
struct closed_loop_spec {
    uint32_t depth;
    double warmup_s;
    double seconds;
    uint64_t max_requests;
    double drain_s;
    int progress;           /* print a progress line each second */
    const char *label;
};
struct closed_loop_result {
    double seconds;         /* from the end of the warm-up to the last measured answer */
    double cpu_s;           /* CPU time the load generator used in that window */
};
void engine_closed_loop(struct engine *e, struct conn **conns, int n, const struct closed_loop_spec *spec,
                        struct run *run, struct closed_loop_result *res);

double process_cpu_s(void);

#endif
