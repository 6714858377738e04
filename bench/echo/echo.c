/* echo: the physical limit of a request/response exchange over loopback.
 *
 *   echo --port P --response-bytes N [--host 127.0.0.1] [--max-request-bytes M]
 *
 * A single-threaded, non-blocking epoll server. It reads request frames (a
 * 4-byte big-endian length L, then L bytes, as JobWire frames; L = 0 or L
 * above --max-request-bytes closes the connection) and answers each with one
 * frame N bytes long on the wire: the 4-byte prefix (N - 4) and N - 4 bytes
 * of no meaning. It does nothing else, so a load generator run against it
 * measures the cost of the sockets and the load generator itself.
 *
 * Request bodies are skipped as they arrive, never buffered, and every
 * response is the same prebuilt bytes, so a connection costs a few counters:
 * the responses it is owed and how far into the current one the kernel got.
 * A client that stops reading is not read from either once it is owed
 * MAX_OWED responses (backpressure instead of unbounded memory).
 *
 * Prints "echo listening on HOST:PORT" on stdout when ready (with --port 0,
 * the port the kernel picked). SIGINT or SIGTERM stops it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { MAX_EVENTS = 512, READ_BYTES = 256 * 1024, MAX_OWED = 4096, IOV_BATCH = 64 };
#define MAX_RESPONSE_BYTES (16u << 20)

struct client {
    int fd;
    uint8_t prefix[4];      /* length prefix of the frame being read */
    uint32_t prefix_have;   /* bytes of it read so far (4: reading the body) */
    uint32_t body_left;     /* body bytes still to skip */
    uint64_t owed;          /* complete responses not yet fully written */
    uint32_t sent_of_first; /* bytes of the first owed response already written */
    uint32_t events;        /* current epoll interest */
};

static volatile sig_atomic_t stopping;
static uint8_t *response;
static uint32_t response_len;
static uint32_t max_request = 16u << 20;
static int epfd;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: echo --port P --response-bytes N [--host 127.0.0.1|::1] [--max-request-bytes M]\n"
                    "  N and M count the whole frame on the wire, 4-byte length prefix included.\n");
    exit(2);
}

static long parse_num(const char *flag, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || *v == 0 || *end != 0 || n < lo || n > hi) {
        fprintf(stderr, "echo: %s must be an integer in %ld..%ld, not '%s'\n", flag, lo, hi, v);
        exit(2);
    }
    return n;
}

static void set_events(struct client *c, uint32_t events)
{
    if (c->events == events)
        return;
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
        perror("echo: epoll_ctl");
        exit(1);
    }
    c->events = events;
}

static void drop(struct client *c, const char *why)
{
    if (why != NULL)
        fprintf(stderr, "echo: closing a connection: %s\n", why);
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Writes what is owed; returns -1 when the connection was dropped. */
static int write_owed(struct client *c)
{
    while (c->owed > 0) {
        struct iovec iov[IOV_BATCH];
        int n = 0;
        iov[n].iov_base = response + c->sent_of_first;
        iov[n].iov_len = response_len - c->sent_of_first;
        n++;
        for (; n < IOV_BATCH && (uint64_t)n < c->owed; n++) {
            iov[n].iov_base = response;
            iov[n].iov_len = response_len;
        }
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            drop(c, strerror(errno));
            return -1;
        }
        uint64_t done = (uint64_t)c->sent_of_first + (uint64_t)w;
        c->owed -= done / response_len;
        c->sent_of_first = (uint32_t)(done % response_len);
    }
    uint32_t want = (c->owed > 0 ? EPOLLOUT : 0) | (c->owed < MAX_OWED ? EPOLLIN : 0);
    set_events(c, want);
    return 0;
}

/* Counts the complete request frames in p[0..len); -1 on a bad frame. */
static long scan_requests(struct client *c, const uint8_t *p, size_t len)
{
    long frames = 0;
    size_t off = 0;
    while (off < len) {
        if (c->prefix_have < 4) {
            c->prefix[c->prefix_have++] = p[off++];
            if (c->prefix_have < 4)
                continue;
            uint32_t body = (uint32_t)c->prefix[0] << 24 | (uint32_t)c->prefix[1] << 16 |
                            (uint32_t)c->prefix[2] << 8 | c->prefix[3];
            if (body == 0 || (uint64_t)body + 4 > max_request)
                return -1;
            c->body_left = body;
        }
        size_t take = len - off < c->body_left ? len - off : c->body_left;
        off += take;
        c->body_left -= (uint32_t)take;
        if (c->body_left == 0) {
            c->prefix_have = 0;
            frames++;
        }
    }
    return frames;
}

static void on_readable(struct client *c, uint8_t *scratch)
{
    ssize_t n = recv(c->fd, scratch, READ_BYTES, 0);
    if (n == 0) {
        drop(c, NULL); /* the client is done */
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            drop(c, strerror(errno));
        return;
    }
    long frames = scan_requests(c, scratch, (size_t)n);
    if (frames < 0) {
        drop(c, "a request frame of length 0 or above --max-request-bytes");
        return;
    }
    c->owed += (uint64_t)frames;
    write_owed(c);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = -1, resp = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--port") == 0)
            port = parse_num("--port", argv[++i], 0, 65535);
        else if (strcmp(argv[i], "--response-bytes") == 0)
            resp = parse_num("--response-bytes", argv[++i], 5, MAX_RESPONSE_BYTES);
        else if (strcmp(argv[i], "--max-request-bytes") == 0)
            max_request = (uint32_t)parse_num("--max-request-bytes", argv[++i], 5, UINT32_MAX);
        else if (strcmp(argv[i], "--host") == 0)
            host = argv[++i];
        else
            usage();
    }
    if (port < 0 || resp < 0)
        usage();

    response_len = (uint32_t)resp;
    response = malloc(response_len);
    if (response == NULL) {
        fprintf(stderr, "echo: out of memory\n");
        return 1;
    }
    uint32_t body = response_len - 4;
    response[0] = (uint8_t)(body >> 24);
    response[1] = (uint8_t)(body >> 16);
    response[2] = (uint8_t)(body >> 8);
    response[3] = (uint8_t)body;
    for (uint32_t i = 4; i < response_len; i++)
        response[i] = (uint8_t)('A' + i % 26);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1 && (ntohl(v4->sin_addr.s_addr) >> 24) == 127) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        sslen = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1 && IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        sslen = sizeof *v6;
    } else {
        fprintf(stderr, "echo: --host must be a loopback address (127.0.0.0/8 or ::1), not '%s'\n", host);
        return 2;
    }

    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&ss, sslen) != 0 || listen(lfd, 4096) != 0) {
        fprintf(stderr, "echo: cannot listen on %s:%ld: %s\n", host, port, strerror(errno));
        return 1;
    }
    if (getsockname(lfd, (struct sockaddr *)&ss, &sslen) != 0) {
        perror("echo: getsockname");
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) != 0) {
        perror("echo: epoll");
        return 1;
    }
    printf("echo listening on %s:%u\n", host,
           ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port));
    fflush(stdout);

    uint8_t *scratch = malloc(READ_BYTES);
    if (scratch == NULL) {
        fprintf(stderr, "echo: out of memory\n");
        return 1;
    }
    struct epoll_event evs[MAX_EVENTS];
    while (!stopping) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("echo: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct client *c = evs[i].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        /* EAGAIN: accepted all; EMFILE and the like: retry
                         * on the next wake-up rather than exit. */
                        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                            fprintf(stderr, "echo: accept: %s\n", strerror(errno));
                        break;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct client *nc = calloc(1, sizeof *nc);
                    if (nc == NULL) {
                        close(fd);
                        fprintf(stderr, "echo: out of memory, connection refused\n");
                        break;
                    }
                    nc->fd = fd;
                    nc->events = EPOLLIN;
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = nc };
                    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
                        perror("echo: epoll_ctl");
                        close(fd);
                        free(nc);
                    }
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                if (write_owed(c) != 0)
                    continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(c, scratch);
        }
    }
    return 0;
}
