/* loadgen: the JobWire benchmark's load generator. See README in bench/ and
 * `loadgen --help`. One thread, one epoll loop; the result is one JSON line
 * on stdout, progress and errors go to stderr. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "echoproto.h"
#include "engine.h"
#include "fanout.h"
#include "sse.h"
#include "jobwire.h"
#include "report.h"
#include "resp.h"

static const char usage_text[] =
    "usage: loadgen --protocol jobwire|resp|echo [--mode MODE] --port P [options]\n"
    "\n"
    "  jobwire --mode get      seed --jobs das_stream jobs (or read --ids FILE), then GetMetadata of random ids\n"
    "          --mode create   Configure of a small job (durable when jobwired runs with --data-dir)\n"
    "          --mode update   seed --jobs jobs, then UpdateJob (progress) round robin\n"
    "          --mode fanout   --watchers W WatchJob one of --jobs-watched jobs each; one connection updates\n"
    "          --mode listfanout  as fanout, each watcher a WatchJobs whose query is its job's id\n"
    "          --mode ssefanout   as fanout over the HTTP port (--http-port): watchers GET /v1/jobs/ID/events,\n"
    "                             the updater PATCHes /v1/jobs/ID; the jobs are seeded through --port\n"
    "                          them at --rate updates/s; delivery latency update sent -> event received\n"
    "  resp    --mode get      SET --jobs keys to the value, then GET random keys\n"
    "          --mode set      SET random keys among --jobs to the value\n"
    "          --mode pubsub   as fanout with SUBSCRIBE/PUBLISH of a --value-bytes payload\n"
    "  echo                    frames of --request-bytes, answered by frames of --response-bytes\n"
    "\n"
    "  --host ADDR            127.0.0.0/8 or ::1 only (default 127.0.0.1)\n"
    "  --port P               the server's port (required)\n"
    "  --connections N        connections (default 1)\n"
    "  --depth D              requests in flight on each connection (default 1)\n"
    "  --seconds S            measure for S seconds after the warm-up (default 10)\n"
    "  --requests N           ... or stop after N measured requests, whichever comes first\n"
    "  --warmup S             seconds of load before measuring (default 0)\n"
    "  --drain S              how long to wait for answers once sending stops (default 5)\n"
    "  --jobs N               jobs (keys) to seed and pick from (default 10000)\n"
    "  --ids FILE             jobwire get/update: job ids to use, one per line, instead of seeding\n"
    "  --dump-job FILE        jobwire get: write one job's encoded Job bytes (for resp --value-file)\n"
    "  --timeout-ms MS        jobwire: Call.timeout_ms of every call (default 0: none)\n"
    "  --value-file FILE      resp: the value to SET and GET (e.g. from --dump-job)\n"
    "  --value-bytes N        resp: a value of N random bytes; pubsub: the payload size\n"
    "  --request-bytes N      echo: request frame size on the wire, 4-byte prefix included\n"
    "  --response-bytes N     echo: response frame size on the wire, 4-byte prefix included\n"
    "  --watchers W           fanout/pubsub: watching connections (default 1000)\n"
    "  --jobs-watched J       fanout/pubsub: jobs (channels) updated and watched (default 100)\n"
    "  --rate R               fanout/pubsub: updates per second, all jobs together (default 100)\n"
    "  --source-ips N         spread connections over source addresses 127.0.0.1 .. 127.0.0.N (default 1)\n"
    "  --tls-ca FILE          speak TLS (jobwire and resp), checking the server's certificate against these CAs\n"
    "  --seed N               random seed (default: from the clock)\n"
    "  --allow-errors         exit 0 even when requests failed (a failed connection still fails the run)\n"
    "  --quiet                no progress lines on stderr\n";

struct options {
    const char *protocol, *mode, *host;
    int port;
    int http_port;           /* ssefanout: jobwired's HTTP port */
    int connections;
    uint32_t depth;
    double seconds, warmup, drain;
    uint64_t requests;
    uint32_t jobs;
    const char *ids_file, *dump_job, *value_file;
    uint32_t value_bytes, request_bytes, response_bytes, timeout_ms;
    int watchers, jobs_watched;
    double rate;
    int source_ips;
    uint64_t seed;
    int allow_errors, quiet;
    const char *tls_ca;       /* --tls-ca: speak TLS, trusting these CAs */
};

static _Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(loadgen --help for usage)\n", stderr);
    va_end(ap);
    exit(2);
}

static uint64_t parse_u64(const char *flag, const char *v, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *v == 0 || *v == '-' || *end != 0 || n < lo || n > hi)
        usage_error("%s must be an integer in %llu..%llu, not '%s'", flag, (unsigned long long)lo,
                    (unsigned long long)hi, v);
    return n;
}

static double parse_seconds(const char *flag, const char *v, double lo, double hi)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || *v == 0 || *end != 0 || !isfinite(d) || d < lo || d > hi)
        usage_error("%s must be a number in %g..%g, not '%s'", flag, lo, hi, v);
    return d;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    enum {
        O_PROTOCOL = 1000, O_MODE, O_HOST, O_PORT, O_CONNECTIONS, O_DEPTH, O_SECONDS, O_REQUESTS, O_WARMUP, O_DRAIN,
        O_JOBS, O_IDS, O_DUMP_JOB, O_TIMEOUT, O_VALUE_FILE, O_VALUE_BYTES, O_REQUEST_BYTES, O_RESPONSE_BYTES,
        O_WATCHERS, O_JOBS_WATCHED, O_RATE, O_SOURCE_IPS, O_SEED, O_ALLOW_ERRORS, O_QUIET, O_HELP, O_HTTP_PORT,
        O_TLS_CA,
    };
    static const struct option longopts[] = {
        { "protocol", required_argument, 0, O_PROTOCOL },
        { "mode", required_argument, 0, O_MODE },
        { "host", required_argument, 0, O_HOST },
        { "port", required_argument, 0, O_PORT },
        { "http-port", required_argument, 0, O_HTTP_PORT },
        { "connections", required_argument, 0, O_CONNECTIONS },
        { "depth", required_argument, 0, O_DEPTH },
        { "seconds", required_argument, 0, O_SECONDS },
        { "requests", required_argument, 0, O_REQUESTS },
        { "warmup", required_argument, 0, O_WARMUP },
        { "drain", required_argument, 0, O_DRAIN },
        { "jobs", required_argument, 0, O_JOBS },
        { "ids", required_argument, 0, O_IDS },
        { "dump-job", required_argument, 0, O_DUMP_JOB },
        { "timeout-ms", required_argument, 0, O_TIMEOUT },
        { "value-file", required_argument, 0, O_VALUE_FILE },
        { "value-bytes", required_argument, 0, O_VALUE_BYTES },
        { "request-bytes", required_argument, 0, O_REQUEST_BYTES },
        { "response-bytes", required_argument, 0, O_RESPONSE_BYTES },
        { "watchers", required_argument, 0, O_WATCHERS },
        { "jobs-watched", required_argument, 0, O_JOBS_WATCHED },
        { "rate", required_argument, 0, O_RATE },
        { "source-ips", required_argument, 0, O_SOURCE_IPS },
        { "tls-ca", required_argument, 0, O_TLS_CA },
        { "seed", required_argument, 0, O_SEED },
        { "allow-errors", no_argument, 0, O_ALLOW_ERRORS },
        { "quiet", no_argument, 0, O_QUIET },
        { "help", no_argument, 0, O_HELP },
        { 0, 0, 0, 0 },
    };
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = -1;
    o->connections = 1;
    o->depth = 1;
    o->seconds = 10;
    o->drain = 5;
    o->jobs = 10000;
    o->watchers = 1000;
    o->jobs_watched = 100;
    o->rate = 100;
    o->source_ips = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_PROTOCOL: o->protocol = optarg; break;
        case O_MODE: o->mode = optarg; break;
        case O_HOST: o->host = optarg; break;
        case O_PORT: o->port = (int)parse_u64("--port", optarg, 1, 65535); break;
        case O_HTTP_PORT: o->http_port = (int)parse_u64("--http-port", optarg, 1, 65535); break;
        case O_CONNECTIONS: o->connections = (int)parse_u64("--connections", optarg, 1, 100000); break;
        case O_DEPTH: o->depth = (uint32_t)parse_u64("--depth", optarg, 1, 10000); break;
        case O_SECONDS: o->seconds = parse_seconds("--seconds", optarg, 0.001, 86400); break;
        case O_REQUESTS: o->requests = parse_u64("--requests", optarg, 1, UINT64_MAX); break;
        case O_WARMUP: o->warmup = parse_seconds("--warmup", optarg, 0, 3600); break;
        case O_DRAIN: o->drain = parse_seconds("--drain", optarg, 0.001, 600); break;
        case O_JOBS: o->jobs = (uint32_t)parse_u64("--jobs", optarg, 1, 100000000); break;
        case O_IDS: o->ids_file = optarg; break;
        case O_DUMP_JOB: o->dump_job = optarg; break;
        case O_TIMEOUT: o->timeout_ms = (uint32_t)parse_u64("--timeout-ms", optarg, 0, UINT32_MAX); break;
        case O_VALUE_FILE: o->value_file = optarg; break;
        case O_VALUE_BYTES: o->value_bytes = (uint32_t)parse_u64("--value-bytes", optarg, 1, 64u << 20); break;
        case O_REQUEST_BYTES: o->request_bytes = (uint32_t)parse_u64("--request-bytes", optarg, 5, 16u << 20); break;
        case O_RESPONSE_BYTES: o->response_bytes = (uint32_t)parse_u64("--response-bytes", optarg, 5, 16u << 20); break;
        case O_WATCHERS: o->watchers = (int)parse_u64("--watchers", optarg, 1, 100000); break;
        case O_JOBS_WATCHED: o->jobs_watched = (int)parse_u64("--jobs-watched", optarg, 1, 100000); break;
        case O_RATE: o->rate = parse_seconds("--rate", optarg, 0.01, 1e6); break;
        case O_SOURCE_IPS: o->source_ips = (int)parse_u64("--source-ips", optarg, 1, 65536); break;
        case O_TLS_CA: o->tls_ca = optarg; break;
        case O_SEED: o->seed = parse_u64("--seed", optarg, 1, UINT64_MAX); break;
        case O_ALLOW_ERRORS: o->allow_errors = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_HELP: fputs(usage_text, stdout); exit(0);
        default: usage_error("unknown option");
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (o->protocol == NULL)
        usage_error("--protocol is required");
    if (o->port < 0)
        usage_error("--port is required");
    if (o->mode == NULL)
        o->mode = strcmp(o->protocol, "echo") == 0 ? "echo" : "get";
    if (o->seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        o->seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ 1;
    }
}

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Exit status: a failed connection always fails the run; so do failed
 * requests unless --allow-errors. */
static int verdict(const struct options *o, const struct engine *e, uint64_t errors)
{
    if (e->conn_failures > 0) {
        log_msg("FAILED: %llu connection(s) failed", (unsigned long long)e->conn_failures);
        return 1;
    }
    if (errors > 0 && !o->allow_errors) {
        log_msg("FAILED: %llu request error(s) (--allow-errors to accept them)", (unsigned long long)errors);
        return 1;
    }
    return 0;
}

static void json_common(struct json *j, const struct options *o)
{
    json_str(j, "protocol", o->protocol);
    json_str(j, "mode", o->mode);
    json_str(j, "host", o->host);
    json_u64(j, "port", (uint64_t)o->port);
}

static int closed_loop_main(const struct options *o, struct engine *e, int role,
                            void (*extra)(struct json *, const void *), const void *extra_arg)
{
    engine_need_fds((uint64_t)o->connections + 64);
    struct conn **conns = engine_open(e, o->connections, role, o->depth, 60);
    if (o->requests > 0)
        log_msg("%d connection(s) ready; %s %s: %llu requests or %.1f s, whichever comes first%s", o->connections,
                o->protocol, o->mode, (unsigned long long)o->requests, o->seconds,
                o->warmup > 0 ? ", after the warm-up" : "");
    else
        log_msg("%d connection(s) ready; %s %s for %.1f s%s", o->connections, o->protocol, o->mode, o->seconds,
                o->warmup > 0 ? " after the warm-up" : "");
    struct closed_loop_spec spec = { .depth = o->depth, .warmup_s = o->warmup, .seconds = o->seconds,
                                     .max_requests = o->requests, .drain_s = o->drain, .progress = !o->quiet,
                                     .label = o->mode };
    static struct run run;
    struct closed_loop_result res;
    engine_closed_loop(e, conns, o->connections, &spec, &run, &res);
    engine_close(e, conns, o->connections);
    e->run = NULL;

    uint64_t errors = run.errors + run.lost;
    struct json j;
    json_begin(&j);
    json_common(&j, o);
    json_u64(&j, "connections", (uint64_t)o->connections);
    json_u64(&j, "depth", o->depth);
    json_num(&j, "warmup_s", o->warmup, 3);
    json_u64(&j, "requests", run.ok);
    json_u64(&j, "errors", errors);
    json_u64(&j, "error_replies", run.errors);
    json_u64(&j, "lost", run.lost);
    json_u64(&j, "conn_failures", e->conn_failures);
    json_num(&j, "seconds", res.seconds, 3);
    json_num(&j, "rps", res.seconds > 0 ? (double)run.ok / res.seconds : 0, 1);
    json_latency(&j, "", &run.hist);
    json_u64(&j, "request_bytes", run.ok ? (run.tx_bytes + run.ok / 2) / run.ok : 0);
    json_u64(&j, "response_bytes", run.ok ? (run.rx_bytes + run.ok / 2) / run.ok : 0);
    if (extra != NULL)
        extra(&j, extra_arg);
    json_num(&j, "loadgen_cpu_s", res.cpu_s, 3);
    json_num(&j, "loadgen_cpu_pct", res.seconds > 0 ? 100.0 * res.cpu_s / res.seconds : 0, 1);
    json_print(&j);
    return verdict(o, e, errors);
}

struct seed_info {
    uint32_t jobs;
    int seeded;
    double seed_s;
    const char *bytes_name;  /* "job_bytes" (the encoded Job) or "value_bytes" (Redis) */
    size_t bytes;
};

static void seed_extra(struct json *j, const void *arg)
{
    const struct seed_info *s = arg;
    json_u64(j, "jobs", s->jobs);
    if (s->seeded)
        json_num(j, "seed_s", s->seed_s, 3);
    if (s->bytes_name != NULL)
        json_u64(j, s->bytes_name, s->bytes);
}

static void fanout_main_report(const struct options *o, struct engine *e, const struct fanout_result *r)
{
    uint64_t errors = r->update_errors + r->updates_lost + r->events_out_of_order + r->events_wrong_job +
                      r->receivers_mismatch;
    struct json j;
    json_begin(&j);
    json_common(&j, o);
    json_u64(&j, "watchers", (uint64_t)o->watchers);
    json_u64(&j, "jobs_watched", (uint64_t)o->jobs_watched);
    json_num(&j, "rate", o->rate, 2);
    json_num(&j, "warmup_s", o->warmup, 3);
    json_num(&j, "seconds", r->seconds, 3);
    json_num(&j, "setup_s", r->setup_s, 3);
    json_u64(&j, "updates_sent", r->updates_sent);
    json_u64(&j, "updates_acked", r->updates_acked);
    json_u64(&j, "update_errors", r->update_errors);
    json_u64(&j, "updates_lost", r->updates_lost);
    json_u64(&j, "updates_late", r->updates_late);
    json_num(&j, "updater_max_lag_us", (double)r->updater_max_lag_ns / 1e3, 1);
    json_u64(&j, "events_expected", r->events_expected);
    json_u64(&j, "events_received", r->events_received);
    json_u64(&j, "events_missed", r->events_missed);
    json_u64(&j, "events_collapsed", r->events_collapsed);
    json_u64(&j, "events_out_of_order", r->events_out_of_order);
    json_u64(&j, "events_wrong_job", r->events_wrong_job);
    json_u64(&j, "resyncs", r->resyncs);
    json_u64(&j, "bookmarks", r->bookmarks);
    json_u64(&j, "watchers_missing", r->watchers_missing);
    json_u64(&j, "receivers_mismatch", r->receivers_mismatch);
    json_u64(&j, "errors", errors);
    json_u64(&j, "conn_failures", e->conn_failures);
    json_num(&j, "events_per_s", r->seconds > 0 ? (double)r->events_received / r->seconds : 0, 1);
    json_latency(&j, "", &r->delivery);
    json_latency(&j, "update_", &r->update_ack);
    json_u64(&j, "event_bytes", r->event_bytes);
    json_u64(&j, "event_wire_bytes", r->event_wire_bytes);
    json_num(&j, "loadgen_cpu_s", r->cpu_s, 3);
    json_num(&j, "loadgen_cpu_pct", r->seconds > 0 ? 100.0 * r->cpu_s / r->seconds : 0, 1);
    json_print(&j);
    exit(verdict(o, e, errors));
}

static void fanout_main(const struct options *o, struct engine *e, int watcher_role, int updater_role)
{
    /* Watchers, the updater and a margin for stdio and the epoll set. */
    engine_need_fds((uint64_t)o->watchers + 64);
    struct fanout_cfg cfg = {
        .label = o->mode, .watchers = o->watchers, .jobs = o->jobs_watched, .rate = o->rate,
        .warmup_s = o->warmup, .seconds = o->seconds, .drain_s = o->drain, .updater_depth = 64,
        .watcher_role = watcher_role, .updater_role = updater_role, .progress = !o->quiet,
    };
    static struct fanout_result r;
    fanout_run(e, &cfg, &r);
    fanout_main_report(o, e, &r);
}

static uint8_t *make_value(const struct options *o, size_t *len, uint64_t seed)
{
    if (o->value_file != NULL) {
        uint8_t *v = read_file(o->value_file, 64u << 20, len);
        if (*len == 0)
            die("%s is empty", o->value_file);
        return v;
    }
    if (o->value_bytes == 0)
        usage_error("resp needs the value: --value-file FILE (a jobwire get run's --dump-job) or --value-bytes N");
    uint8_t *v = malloc(o->value_bytes);
    if (v == NULL)
        die("out of memory");
    for (uint32_t i = 0; i < o->value_bytes; i++)
        v[i] = (uint8_t)rng_next(&seed);
    *len = o->value_bytes;
    return v;
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    struct engine e;

    if (is(o.protocol, "jobwire")) {
        if (!is(o.mode, "get") && !is(o.mode, "create") && !is(o.mode, "update") && !is(o.mode, "fanout") &&
            !is(o.mode, "listfanout") && !is(o.mode, "ssefanout"))
            usage_error("jobwire modes: get, create, update, fanout, listfanout, ssefanout (not '%s')", o.mode);
        if (engine_init(&e, &jobwire_proto, o.host, o.port) != 0 || (o.tls_ca != NULL && engine_use_tls(&e, o.tls_ca) != 0))
            return 2;
        e.source_ips = o.source_ips;
        jobwire_init(o.seed, o.timeout_ms);
        struct seed_info seed = { 0 };
        if (is(o.mode, "listfanout"))
            jobwire_use_list_watch();
        if (is(o.mode, "fanout") || is(o.mode, "listfanout")) {
            jobwire_seed(&e, (uint32_t)o.jobs_watched, &seed.seed_s);
            fanout_main(&o, &e, JW_WATCHER, JW_UPDATER);
        }
        if (is(o.mode, "ssefanout")) {
            if (o.http_port == 0)
                usage_error("--mode ssefanout needs --http-port");
            jobwire_seed(&e, (uint32_t)o.jobs_watched, &seed.seed_s);
            struct engine http;
            if (engine_init(&http, &sse_proto, o.host, o.http_port) != 0)
                return 2;
            http.source_ips = o.source_ips;
            fanout_main(&o, &http, SSE_WATCHER, SSE_UPDATER);
        }
        if (is(o.mode, "create"))
            return closed_loop_main(&o, &e, JW_CREATE, NULL, NULL);
        if (o.ids_file != NULL) {
            jobwire_load_ids(o.ids_file);
        } else {
            jobwire_seed(&e, o.jobs, &seed.seed_s);
            seed.seeded = 1;
        }
        seed.jobs = jobwire_job_count();
        if (is(o.mode, "get")) {
            struct jobwire_probe probe;
            jobwire_probe(&e, &probe);
            seed.bytes_name = "job_bytes";
            seed.bytes = probe.job_len;
            if (o.dump_job != NULL) {
                if (write_file(o.dump_job, probe.job, probe.job_len) != 0)
                    die("cannot write %s: %s", o.dump_job, strerror(errno));
                log_msg("wrote the %zu-byte encoded Job to %s", probe.job_len, o.dump_job);
            }
            return closed_loop_main(&o, &e, JW_GET, seed_extra, &seed);
        }
        return closed_loop_main(&o, &e, JW_UPDATE, seed_extra, &seed);
    }

    if (is(o.protocol, "resp")) {
        if (!is(o.mode, "get") && !is(o.mode, "set") && !is(o.mode, "pubsub"))
            usage_error("resp modes: get, set, pubsub (not '%s')", o.mode);
        if (engine_init(&e, &resp_proto, o.host, o.port) != 0 || (o.tls_ca != NULL && engine_use_tls(&e, o.tls_ca) != 0))
            return 2;
        e.source_ips = o.source_ips;
        size_t value_len;
        uint8_t *value = make_value(&o, &value_len, o.seed);
        if (is(o.mode, "pubsub")) {
            resp_init(o.seed, (uint32_t)o.jobs_watched, value, value_len);
            fanout_main(&o, &e, RESP_SUBSCRIBER, RESP_PUBLISHER);
        }
        resp_init(o.seed, o.jobs, value, value_len);
        struct seed_info seed = { .jobs = o.jobs, .bytes_name = "value_bytes", .bytes = value_len };
        if (is(o.mode, "get")) {
            resp_seed(&e, &seed.seed_s);
            seed.seeded = 1;
            return closed_loop_main(&o, &e, RESP_GET, seed_extra, &seed);
        }
        return closed_loop_main(&o, &e, RESP_SET, seed_extra, &seed);
    }

    if (is(o.protocol, "echo")) {
        if (!is(o.mode, "echo"))
            usage_error("the echo protocol has one mode, echo (not '%s')", o.mode);
        if (o.request_bytes == 0 || o.response_bytes == 0)
            usage_error("echo needs --request-bytes and --response-bytes (a jobwire get run's request_bytes and "
                        "response_bytes)");
        if (engine_init(&e, &echo_proto, o.host, o.port) != 0)
            return 2;
        e.source_ips = o.source_ips;
        if (echo_setup(o.request_bytes, o.response_bytes) != 0)
            return 2;
        return closed_loop_main(&o, &e, 0, NULL, NULL);
    }
    usage_error("--protocol must be jobwire, resp or echo (not '%s')", o.protocol);
}
