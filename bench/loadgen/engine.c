#define _GNU_SOURCE
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

enum { SCRATCH_BYTES = 256 * 1024, READ_RESERVE = 64 * 1024, MAX_EVENTS = 512 };
/* Output waiting for the kernel on one connection. Closed-loop requests never
 * come near it; it catches a server that stops reading. */
#define OUT_MAX ((size_t)64 << 20)

int engine_init(struct engine *e, const struct proto *proto, const char *host, int port)
{
    memset(e, 0, sizeof *e);
    e->proto = proto;
    e->connect_batch = 256;
    e->source_ips = 1;
    e->conn_errs.what = "connection errors";
    e->req_errs.what = "request errors";
    if (port < 1 || port > 65535) {
        log_msg("port %d is not in 1..65535", port);
        return -1;
    }
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    struct sockaddr_in *v4 = (struct sockaddr_in *)&e->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&e->addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        /* The load generator must never send traffic off this machine. */
        if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) {
            log_msg("refusing %s: only loopback addresses (127.0.0.0/8, ::1) may be targeted", host);
            return -1;
        }
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        e->addrlen = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
            log_msg("refusing %s: only loopback addresses (127.0.0.0/8, ::1) may be targeted", host);
            return -1;
        }
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        e->addrlen = sizeof *v6;
    } else {
        log_msg("%s is not a numeric IPv4 or IPv6 address (names other than localhost are not resolved)", host);
        return -1;
    }
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0)
        die("epoll_create1: %s", strerror(errno));
    e->scratch_cap = SCRATCH_BYTES;
    e->scratch = malloc(e->scratch_cap);
    if (e->scratch == NULL)
        die("out of memory");
    return 0;
}

int engine_use_tls(struct engine *e, const char *ca_file)
{
    SSL_CTX *tls = SSL_CTX_new(TLS_client_method());
    if (tls == NULL || SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(tls, ca_file, NULL) != 1) {
        log_msg("cannot use the CA file %s: %s", ca_file, ERR_error_string(ERR_get_error(), NULL));
        return -1;
    }
    SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(tls, 1);
    e->tls = tls;
    return 0;
}

/* send/recv, through TLS when the connection has it: -1 with errno EAGAIN when it must wait. */
static ssize_t conn_write(struct conn *c, const void *data, size_t len)
{
    if (c->ssl == NULL)
        return send(c->fd, data, len, MSG_NOSIGNAL);
    ERR_clear_error();
    int n = SSL_write(c->ssl, data, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    int err = SSL_get_error(c->ssl, n);
    errno = err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? EAGAIN : EIO;
    return -1;
}

static ssize_t conn_recv(struct conn *c, void *data, size_t len)
{
    if (c->ssl == NULL)
        return recv(c->fd, data, len, 0);
    ERR_clear_error();
    int n = SSL_read(c->ssl, data, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && n == 0))
        return 0;
    errno = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? EAGAIN : EIO;
    return -1;
}

void engine_need_fds(uint64_t fds)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= fds)
        return;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= fds) {
        rl.rlim_cur = fds;
    } else {
        /* Only a privileged process may raise the hard limit; try anyway. */
        rl.rlim_cur = rl.rlim_max = fds;
    }
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        struct rlimit now;
        getrlimit(RLIMIT_NOFILE, &now);
        die("need %llu file descriptors but RLIMIT_NOFILE is %llu (hard %llu) and cannot be raised: %s; "
            "raise it (ulimit -n) or use fewer connections",
            (unsigned long long)fds, (unsigned long long)now.rlim_cur, (unsigned long long)now.rlim_max,
            strerror(errno));
    }
    log_msg("raised RLIMIT_NOFILE to %llu", (unsigned long long)fds);
}

double process_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void epoll_set(struct conn *c, uint32_t events, int op)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(c->e->epfd, op, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

void conn_fail(struct conn *c, const char *fmt, ...)
{
    if (c->state == CONN_DEAD)
        return;
    struct engine *e = c->e;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_report(&e->conn_errs, "connection %d (%s) failed with %u request(s) in flight: %s", c->index,
               c->state == CONN_READY ? "ready" : c->state == CONN_CONNECTING ? "connecting" : "handshake",
               c->inflight, msg);
    c->state = CONN_DEAD;
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    close(c->fd);
    c->fd = -1;
    e->conn_failures++;
    if (e->run != NULL) {
        /* Requests in flight on a lost connection are never answered. */
        e->run->lost += c->inflight;
        e->run->inflight -= c->inflight;
    }
    for (uint32_t i = 0; i < c->depth; i++)
        c->slots[i].used = 0;
    c->inflight = 0;
    buf_free(&c->in);
    buf_free(&c->out);
}

void engine_conn_ready(struct conn *c)
{
    if (c->state == CONN_HANDSHAKE)
        c->state = CONN_READY;
}

static void mark_dirty(struct conn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        c->next_dirty = c->e->dirty_head;
        c->e->dirty_head = c;
    }
}

uint8_t *conn_out_reserve(struct conn *c, size_t n)
{
    if (c->state == CONN_DEAD)
        return NULL;
    if (buf_reserve(&c->out, n) != 0) {
        conn_fail(c, "more than %zu bytes of output waiting: the server stopped reading", c->out.max);
        return NULL;
    }
    return buf_tail(&c->out);
}

void conn_out_commit(struct conn *c, size_t n)
{
    c->out.len += n;
    mark_dirty(c);
}

int conn_send(struct conn *c, const void *data, size_t len)
{
    uint8_t *p = conn_out_reserve(c, len);
    if (p == NULL)
        return -1;
    memcpy(p, data, len);
    conn_out_commit(c, len);
    return 0;
}

static void conn_flush(struct conn *c)
{
    while (c->out.len > 0) {
        ssize_t n = conn_write(c, buf_head(&c->out), c->out.len);
        if (n > 0) {
            buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->epoll_out) {
                c->epoll_out = 1;
                epoll_set(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
            }
            return;
        }
        conn_fail(c, "send: %s", n < 0 ? strerror(errno) : "wrote nothing");
        return;
    }
    if (c->epoll_out) {
        c->epoll_out = 0;
        epoll_set(c, EPOLLIN, EPOLL_CTL_MOD);
    }
}

static void flush_dirty(struct engine *e)
{
    while (e->dirty_head != NULL) {
        struct conn *c = e->dirty_head;
        e->dirty_head = c->next_dirty;
        c->dirty = 0;
        c->next_dirty = NULL;
        if (c->state != CONN_DEAD)
            conn_flush(c);
    }
}

static void conn_protocol_start(struct conn *c)
{
    c->state = CONN_HANDSHAKE;
    c->epoll_out = 0;
    epoll_set(c, EPOLLIN, EPOLL_CTL_MOD);
    if (c->e->proto->on_connected(c) != 0 && c->state != CONN_DEAD)
        conn_fail(c, "handshake could not be queued");
}

static void conn_read(struct conn *c)
{
    struct engine *e = c->e;
    const struct proto *p = e->proto;
    ssize_t n;
    if (c->in.len == 0) {
        /* Common case: nothing pending, parse straight from the scratch
         * buffer and keep only an incomplete tail. */
        n = conn_recv(c, e->scratch, e->scratch_cap);
        if (n > 0) {
            long used = p->on_input(c, e->scratch, (size_t)n);
            if (used < 0 || c->state == CONN_DEAD) {
                conn_fail(c, "a protocol error"); /* no-op when the protocol already failed it */
                return;
            }
            if ((size_t)used < (size_t)n && buf_append(&c->in, e->scratch + used, (size_t)n - (size_t)used) != 0)
                conn_fail(c, "a message larger than %zu bytes", p->max_message);
            return;
        }
    } else {
        size_t room = c->in.max - c->in.len;
        if (room > READ_RESERVE)
            room = READ_RESERVE;
        if (room == 0 || buf_reserve(&c->in, room) != 0) {
            conn_fail(c, "a message larger than %zu bytes", p->max_message);
            return;
        }
        n = conn_recv(c, buf_tail(&c->in), c->in.cap - c->in.off - c->in.len);
        if (n > 0) {
            c->in.len += (size_t)n;
            long used = p->on_input(c, buf_head(&c->in), c->in.len);
            if (used < 0 || c->state == CONN_DEAD) {
                conn_fail(c, "a protocol error"); /* no-op when the protocol already failed it */
                return;
            }
            buf_consume(&c->in, (size_t)used);
            return;
        }
    }
    if (n == 0) {
        conn_fail(c, "connection closed by the server");
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        conn_fail(c, "recv: %s", c->ssl != NULL ? ERR_error_string(ERR_get_error(), NULL) : strerror(errno));
    }
}

/* Drives the TLS handshake; the protocol's own starts when it is done. */
static void conn_tls_handshake(struct conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->tls_handshaking = 0;
        conn_protocol_start(c);
        return;
    }
    int err = SSL_get_error(c->ssl, r);
    if (err == SSL_ERROR_WANT_READ) {
        epoll_set(c, EPOLLIN, EPOLL_CTL_MOD);
    } else if (err == SSL_ERROR_WANT_WRITE) {
        epoll_set(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
    } else {
        long verify = SSL_get_verify_result(c->ssl);
        conn_fail(c, "TLS handshake: %s", verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                                              : ERR_error_string(ERR_get_error(), NULL));
    }
}

static void conn_connected(struct conn *c)
{
    if (c->e->tls == NULL) {
        conn_protocol_start(c);
        return;
    }
    c->ssl = SSL_new(c->e->tls);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        conn_fail(c, "cannot start TLS");
        return;
    }
    SSL_set_connect_state(c->ssl);
    char host[INET6_ADDRSTRLEN] = "127.0.0.1";
    const struct sockaddr_storage *addr = &c->e->addr;
    if (addr->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, host, sizeof host);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
    c->tls_handshaking = 1;
    c->epoll_out = 0;
    conn_tls_handshake(c);
}

static void handle_event(struct conn *c, uint32_t ev)
{
    if (c->state == CONN_DEAD)
        return;
    if (c->tls_handshaking) {
        conn_tls_handshake(c);
        return;
    }
    if (c->state == CONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0)
            conn_fail(c, "connect: %s", strerror(err));
        else if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            conn_connected(c);
        return;
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        conn_read(c);
        /* Records OpenSSL already decrypted raise no event on the socket. */
        while (c->state != CONN_DEAD && c->ssl != NULL && SSL_has_pending(c->ssl))
            conn_read(c);
    }
    if (c->state != CONN_DEAD && (ev & EPOLLOUT))
        conn_flush(c);
}

void engine_poll(struct engine *e, uint64_t deadline_ns)
{
    flush_dirty(e);
    struct epoll_event evs[MAX_EVENTS];
    uint64_t now = now_ns();
    uint64_t wait = deadline_ns > now ? deadline_ns - now : 0;
    struct timespec ts = { .tv_sec = (time_t)(wait / NS_PER_SEC), .tv_nsec = (long)(wait % NS_PER_SEC) };
    int n = epoll_pwait2(e->epfd, evs, MAX_EVENTS, &ts, NULL);
    if (n < 0) {
        if (errno == EINTR)
            return;
        die("epoll_pwait2: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++)
        handle_event(evs[i].data.ptr, evs[i].events);
    flush_dirty(e);
}

static void conn_start(struct engine *e, struct conn *c)
{
    int fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    c->fd = fd;
    int one = 1;
    /* Requests are small and latency is the measure: no Nagle delay. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        die("setsockopt(TCP_NODELAY): %s", strerror(errno));
    if (e->source_ips > 1 && e->addr.ss_family == AF_INET) {
        /* Spread connections over several loopback source addresses, so a
         * server's per-address connection limit sees many clients. */
        struct sockaddr_in src = { .sin_family = AF_INET };
        src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(e->conns_open % (uint64_t)e->source_ips));
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
            die("bind to a loopback source address: %s", strerror(errno));
    }
    e->conns_open++;
    c->state = CONN_CONNECTING;
    int rc = connect(fd, (struct sockaddr *)&e->addr, e->addrlen);
    if (rc == 0) {
        epoll_set(c, EPOLLIN, EPOLL_CTL_ADD);
        conn_connected(c);
    } else if (errno == EINPROGRESS) {
        epoll_set(c, EPOLLOUT, EPOLL_CTL_ADD);
    } else {
        /* Not yet in the epoll set: fail it by hand. */
        int err = errno;
        epoll_set(c, EPOLLOUT, EPOLL_CTL_ADD);
        conn_fail(c, "connect: %s", strerror(err));
    }
}

struct conn **engine_open(struct engine *e, int n, int role, uint32_t depth, double timeout_s)
{
    struct conn **conns = calloc((size_t)n, sizeof *conns);
    if (conns == NULL)
        die("out of memory");
    for (int i = 0; i < n; i++) {
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL)
            die("out of memory");
        c->e = e;
        c->fd = -1;
        c->index = i;
        c->role = role;
        c->depth = depth ? depth : 1;
        c->slots = calloc(c->depth, sizeof *c->slots);
        if (c->slots == NULL)
            die("out of memory");
        c->next_tag = 1;
        c->in.max = e->proto->max_message + READ_RESERVE;
        c->out.max = OUT_MAX;
        conns[i] = c;
    }
    uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9);
    int started = 0;
    for (;;) {
        int ready = 0, pending = 0;
        for (int i = 0; i < started; i++) {
            if (conns[i]->state == CONN_DEAD)
                die("connection %d of %d could not be set up (see above)", i, n);
            if (conns[i]->state == CONN_READY)
                ready++;
            else
                pending++;
        }
        if (ready == n)
            break;
        /* A bounded number of handshakes at once: thousands of simultaneous
         * SYNs would overflow the server's accept backlog and stall for a
         * second each on SYN retransmission. */
        while (started < n && pending < e->connect_batch) {
            conn_start(e, conns[started++]);
            pending++;
        }
        uint64_t now = now_ns();
        if (now >= deadline)
            die("setting up %d connections took more than %.0f s (%d ready)", n, timeout_s, ready);
        uint64_t next = now + 100000000ull;
        engine_poll(e, next < deadline ? next : deadline);
    }
    return conns;
}

void engine_close(struct engine *e, struct conn **conns, int n)
{
    /* Drop closed connections from the flush list before freeing them. */
    struct conn **link = &e->dirty_head;
    while (*link != NULL) {
        struct conn *c = *link;
        int closing = 0;
        for (int i = 0; i < n && !closing; i++)
            closing = conns[i] == c;
        if (closing)
            *link = c->next_dirty;
        else
            link = &c->next_dirty;
    }
    for (int i = 0; i < n; i++) {
        struct conn *c = conns[i];
        if (c->fd >= 0) {
            epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
        }
        if (e->run != NULL)
            e->run->inflight -= c->inflight;
        buf_free(&c->in);
        buf_free(&c->out);
        free(c->slots);
        free(c);
    }
    free(conns);
}

struct slot *conn_slot_by_tag(struct conn *c, uint32_t tag)
{
    for (uint32_t i = 0; i < c->depth; i++)
        if (c->slots[i].used && c->slots[i].tag == tag)
            return &c->slots[i];
    return NULL;
}

struct slot *conn_slot_oldest(struct conn *c)
{
    struct slot *best = NULL;
    for (uint32_t i = 0; i < c->depth; i++) {
        struct slot *s = &c->slots[i];
        if (s->used && (best == NULL || (int32_t)(s->tag - best->tag) < 0))
            best = s;
    }
    return best;
}

static int may_issue(const struct run *r, uint64_t now)
{
    return r->sending && (r->stop_ns == 0 || now < r->stop_ns) &&
           (r->max_measured == 0 || r->sent_measured < r->max_measured);
}

int engine_issue(struct conn *c)
{
    struct run *r = c->e->run;
    if (c->state != CONN_READY || c->draining)
        return -1;
    struct slot *s = NULL;
    for (uint32_t i = 0; i < c->depth; i++) {
        if (!c->slots[i].used) {
            s = &c->slots[i];
            break;
        }
    }
    if (s == NULL)
        return -1; /* callers keep inflight <= depth; no free slot is a bug */
    s->tag = c->next_tag++;
    if (c->next_tag == 0)
        c->next_tag = 1; /* JobWire stream ids start at 1 */
    s->aux = 0;
    s->rx_bytes = 0;
    s->got_reply = 0;
    size_t before = c->out.len;
    if (c->e->proto->issue(c, s) != 0) {
        if (c->state != CONN_DEAD)
            conn_fail(c, "a request could not be encoded");
        return -1;
    }
    s->tx_bytes = (uint32_t)(c->out.len - before);
    s->used = 1;
    /* Taken after encoding: the clock starts when the bytes are ready to go. */
    s->sent_ns = now_ns();
    s->measured = s->sent_ns >= r->warm_end_ns;
    if (s->measured)
        r->sent_measured++;
    r->issued++;
    r->inflight++;
    c->inflight++;
    return 0;
}

void engine_complete(struct conn *c, struct slot *s, int ok)
{
    struct run *r = c->e->run;
    uint64_t t = now_ns();
    if (ok) {
        if (s->measured) {
            r->ok++;
            hist_record(&r->hist, t - s->sent_ns);
            r->tx_bytes += s->tx_bytes;
            r->rx_bytes += s->rx_bytes;
            r->last_done_ns = t;
        } else {
            r->warmup_ok++;
        }
    } else {
        r->errors++;
        if (s->measured)
            r->last_done_ns = t;
    }
    s->used = 0;
    c->inflight--;
    r->inflight--;
    if (c->draining) {
        if (c->inflight == 0)
            conn_fail(c, "drained after the server's GoAway");
    } else if (r->closed_loop && may_issue(r, t)) {
        engine_issue(c);
    }
}

void engine_lose(struct conn *c, struct slot *s)
{
    s->used = 0;
    c->inflight--;
    c->e->run->inflight--;
    c->e->run->lost++;
}

void conn_drain(struct conn *c, const char *why)
{
    if (c->state == CONN_DEAD)
        return;
    err_report(&c->e->conn_errs, "connection %d: %s; finishing its %u request(s) in flight", c->index, why,
               c->inflight);
    c->draining = 1;
    if (c->inflight == 0)
        conn_fail(c, "drained after the server's GoAway");
}

void engine_closed_loop(struct engine *e, struct conn **conns, int n, const struct closed_loop_spec *spec,
                        struct run *r, struct closed_loop_result *res)
{
    memset(r, 0, sizeof *r);
    hist_init(&r->hist);
    r->closed_loop = 1;
    r->sending = 1;
    uint64_t start = now_ns();
    r->warm_end_ns = start + (uint64_t)(spec->warmup_s * 1e9);
    r->stop_ns = spec->seconds > 0 ? r->warm_end_ns + (uint64_t)(spec->seconds * 1e9) : 0;
    r->max_measured = spec->max_requests;
    e->run = r;

    int warm_marked = spec->warmup_s <= 0;
    double cpu_warm = process_cpu_s();
    for (int i = 0; i < n; i++)
        for (uint32_t d = 0; d < spec->depth && conns[i]->inflight < conns[i]->depth; d++)
            if (!may_issue(r, now_ns()) || engine_issue(conns[i]) != 0)
                break;

    uint64_t next_progress = start + NS_PER_SEC;
    uint64_t last_progress_ok = 0;
    uint64_t drain_deadline = 0;
    for (;;) {
        uint64_t now = now_ns();
        if (!warm_marked && now >= r->warm_end_ns) {
            cpu_warm = process_cpu_s();
            warm_marked = 1;
        }
        if (r->sending && !may_issue(r, now)) {
            r->sending = 0;
            drain_deadline = now + (uint64_t)(spec->drain_s * 1e9);
        }
        if (!r->sending && r->inflight == 0)
            break;
        int live = 0;
        for (int i = 0; i < n && !live; i++)
            live = conns[i]->state == CONN_READY;
        if (!live) {
            log_msg("%s: every connection has failed", spec->label);
            break;
        }
        if (!r->sending && now >= drain_deadline) {
            log_msg("%s: %llu request(s) still unanswered %.1f s after the last was sent: counted as lost",
                    spec->label, (unsigned long long)r->inflight, spec->drain_s);
            r->lost += r->inflight;
            break;
        }
        if (now >= next_progress) {
            uint64_t done = r->ok + r->warmup_ok;
            if (spec->progress)
                log_msg("%s: %.0f s, %llu answered, %llu errors, %llu/s in the last second", spec->label,
                        (double)(now - start) / 1e9, (unsigned long long)done,
                        (unsigned long long)(r->errors + r->lost), (unsigned long long)(done - last_progress_ok));
            last_progress_ok = done;
            next_progress += NS_PER_SEC;
        }
        uint64_t deadline = next_progress;
        if (r->sending && r->stop_ns != 0 && r->stop_ns < deadline)
            deadline = r->stop_ns;
        if (!r->sending && drain_deadline < deadline)
            deadline = drain_deadline;
        if (!warm_marked && r->warm_end_ns < deadline)
            deadline = r->warm_end_ns;
        engine_poll(e, deadline);
    }
    res->seconds = r->last_done_ns > r->warm_end_ns ? (double)(r->last_done_ns - r->warm_end_ns) / 1e9 : 0.0;
    res->cpu_s = process_cpu_s() - cpu_warm;
}
