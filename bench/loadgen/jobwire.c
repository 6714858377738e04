#include "jobwire.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobwire/v1/jobwire.pb-c.h"

#include "fanout.h"
#include "pbwire.h"

/* We announce no max_frame_bytes in Hello, so the connection's limit is at
 * most the protocol default. */
#define JW_MAX_FRAME (4u << 20)
#define UUID_LEN 36
#define M_CONFIGURE "/jobwire.v1.JobService/Configure"
#define M_GET "/jobwire.v1.JobService/GetMetadata"
#define M_UPDATE "/jobwire.v1.JobService/UpdateJob"
#define M_WATCH "/jobwire.v1.JobService/WatchJob"
#define M_WATCH_JOBS "/jobwire.v1.JobService/WatchJobs"
#define WATCH_STREAM 1u

static struct {
    char (*ids)[UUID_LEN + 1];
    uint32_t nids;
    uint8_t *das_configure;      /* the seeded job's ConfigureRequest, encoded once */
    size_t das_configure_len;
    uint64_t rng;
    uint64_t round_robin;
    uint32_t timeout_ms;
    struct jobwire_probe *probe;
    int list_watch;
} jw;

static const char *const status_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

static const char *status_name(uint64_t code)
{
    return code < sizeof status_names / sizeof *status_names ? status_names[code] : "UNKNOWN";
}

static const char *role_method(int role)
{
    switch (role) {
    case JW_SEED:
    case JW_CREATE:
        return M_CONFIGURE;
    case JW_UPDATE:
    case JW_UPDATER:
        return M_UPDATE;
    default:
        return M_GET;
    }
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Appends one length-prefixed Frame to the connection's output. */
static int send_frame(struct conn *c, const Jobwire__V1__Frame *f)
{
    size_t n = jobwire__v1__frame__get_packed_size(f);
    uint8_t *p = conn_out_reserve(c, n + 4);
    if (p == NULL)
        return -1;
    put_be32(p, (uint32_t)n);
    jobwire__v1__frame__pack(f, p + 4);
    conn_out_commit(c, n + 4);
    return 0;
}

static int send_call(struct conn *c, uint32_t stream, const char *method, const void *req, size_t req_len,
                     uint32_t timeout_ms)
{
    Jobwire__V1__Call call = JOBWIRE__V1__CALL__INIT;
    call.stream_id = stream;
    call.method = (char *)method;
    call.request.data = (uint8_t *)req;
    call.request.len = req_len;
    call.timeout_ms = timeout_ms;
    Jobwire__V1__Frame f = JOBWIRE__V1__FRAME__INIT;
    f.kind_case = JOBWIRE__V1__FRAME__KIND_CALL;
    f.call = &call;
    return send_frame(c, &f);
}

/* The job bench/load/main.swift seeds: a DAS streaming job with 500
 * frequencies and a 50-channel map, about 4.4 KB encoded. */
static void encode_das_configure(void)
{
    static double freqs[500];
    static Jobwire__V1__Job__ChannelToStreamIndexEntry entries[50];
    static Jobwire__V1__Job__ChannelToStreamIndexEntry *entry_ptrs[50];
    for (int i = 0; i < 500; i++)
        freqs[i] = (double)i * 0.25;
    for (int i = 0; i < 50; i++) {
        Jobwire__V1__Job__ChannelToStreamIndexEntry e = JOBWIRE__V1__JOB__CHANNEL_TO_STREAM_INDEX_ENTRY__INIT;
        e.key = (uint32_t)i + 1;
        e.value = (uint32_t)i % 4;
        entries[i] = e;
        entry_ptrs[i] = &entries[i];
    }
    Jobwire__V1__Job__LabelsEntry site = JOBWIRE__V1__JOB__LABELS_ENTRY__INIT;
    site.key = "site";
    site.value = "haifa";
    Jobwire__V1__Job__LabelsEntry *labels[1] = { &site };
    Jobwire__V1__StreamMetadata md = JOBWIRE__V1__STREAM_METADATA__INIT;
    md.dx = 1.02;
    md.prr = 2000;
    md.fiber_start_meters = 0;
    md.fiber_length_meters = 5000;
    md.sw_version = "1.4.2";
    Jobwire__V1__Job job = JOBWIRE__V1__JOB__INIT;
    job.type = "das_stream";
    job.n_labels = 1;
    job.labels = labels;
    job.stream_url = "10.10.100.100";
    job.stream_port = 50051;
    job.view_type = 1;
    job.n_frequencies_list = 500;
    job.frequencies_list = freqs;
    job.lines_dt = 0.001;
    job.n_channel_to_stream_index = 50;
    job.channel_to_stream_index = entry_ptrs;
    job.stream_amount = 4;
    job.frequencies_amount = 500;
    job.channel_amount = 50;
    job.metadata = &md;
    Jobwire__V1__ConfigureRequest req = JOBWIRE__V1__CONFIGURE_REQUEST__INIT;
    req.job = &job;
    jw.das_configure_len = jobwire__v1__configure_request__get_packed_size(&req);
    jw.das_configure = malloc(jw.das_configure_len);
    if (jw.das_configure == NULL)
        die("out of memory");
    jobwire__v1__configure_request__pack(&req, jw.das_configure);
}

void jobwire_init(uint64_t rng_seed, uint32_t timeout_ms)
{
    jw.rng = rng_seed ? rng_seed : 0x9e3779b97f4a7c15ull;
    jw.timeout_ms = timeout_ms;
    encode_das_configure();
}

void jobwire_use_list_watch(void)
{
    jw.list_watch = 1;
}

uint32_t jobwire_job_count(void)
{
    return jw.nids;
}

const char *jobwire_job_id(uint32_t index)
{
    return jw.ids[index % jw.nids];
}

static void ids_alloc(uint32_t n)
{
    free(jw.ids);
    jw.ids = calloc(n ? n : 1, sizeof *jw.ids);
    if (jw.ids == NULL)
        die("out of memory");
    jw.nids = n;
}

static int is_uuid(const char *s, size_t len)
{
    if (len != UUID_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

void jobwire_load_ids(const char *path)
{
    size_t len;
    char *text = (char *)read_file(path, (size_t)1 << 30, &len);
    uint32_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    ids_alloc(lines + 1);
    uint32_t n = 0, lineno = 0;
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        char *end = nl ? nl : text + len;
        lineno++;
        char *a = line, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a) {
            if (!is_uuid(a, (size_t)(b - a)))
                die("%s:%u: not a job id (a 36-character UUID)", path, lineno);
            for (int i = 0; i < UUID_LEN; i++)
                jw.ids[n][i] = (char)tolower((unsigned char)a[i]);
            n++;
        }
        line = end + 1;
    }
    free(text);
    if (n == 0)
        die("%s holds no job ids", path);
    jw.nids = n;
}

/* ---- requests ---- */

static int jw_issue(struct conn *c, struct slot *s)
{
    uint8_t req[256];
    size_t len;
    switch (c->role) {
    case JW_SEED:
        s->aux = (uint32_t)c->e->run->issued;
        return send_call(c, s->tag, M_CONFIGURE, jw.das_configure, jw.das_configure_len, jw.timeout_ms);
    case JW_PROBE:
    case JW_GET: {
        s->aux = c->role == JW_PROBE ? 0 : rng_below(&jw.rng, jw.nids);
        Jobwire__V1__GetMetadataRequest r = JOBWIRE__V1__GET_METADATA_REQUEST__INIT;
        r.job_id = jw.ids[s->aux];
        if (jobwire__v1__get_metadata_request__get_packed_size(&r) > sizeof req)
            return -1; /* cannot happen with our fields; never overrun the buffer */
        len = jobwire__v1__get_metadata_request__pack(&r, req);
        return send_call(c, s->tag, M_GET, req, len, jw.timeout_ms);
    }
    case JW_CREATE: {
        /* As bench/load/main.swift's create mode: a small job labelled with
         * its connection. */
        char worker[16];
        snprintf(worker, sizeof worker, "%d", c->index);
        Jobwire__V1__Job__LabelsEntry label = JOBWIRE__V1__JOB__LABELS_ENTRY__INIT;
        label.key = "worker";
        label.value = worker;
        Jobwire__V1__Job__LabelsEntry *labels[1] = { &label };
        Jobwire__V1__Job job = JOBWIRE__V1__JOB__INIT;
        job.type = "bench";
        job.n_labels = 1;
        job.labels = labels;
        Jobwire__V1__ConfigureRequest r = JOBWIRE__V1__CONFIGURE_REQUEST__INIT;
        r.job = &job;
        if (jobwire__v1__configure_request__get_packed_size(&r) > sizeof req)
            return -1; /* cannot happen with our fields; never overrun the buffer */
        len = jobwire__v1__configure_request__pack(&r, req);
        return send_call(c, s->tag, M_CONFIGURE, req, len, jw.timeout_ms);
    }
    case JW_UPDATE: {
        /* Every job in turn; each pass over the jobs uses the next progress
         * value, so every update really changes its job. */
        uint64_t n = jw.round_robin++;
        s->aux = (uint32_t)(n % jw.nids);
        Jobwire__V1__UpdateJobRequest r = JOBWIRE__V1__UPDATE_JOB_REQUEST__INIT;
        r.job_id = jw.ids[s->aux];
        r.progress_update_case = JOBWIRE__V1__UPDATE_JOB_REQUEST__PROGRESS_UPDATE_PROGRESS;
        r.progress = (double)((n / jw.nids) % 100 + 1);
        if (jobwire__v1__update_job_request__get_packed_size(&r) > sizeof req)
            return -1; /* cannot happen with our fields; never overrun the buffer */
        len = jobwire__v1__update_job_request__pack(&r, req);
        return send_call(c, s->tag, M_UPDATE, req, len, jw.timeout_ms);
    }
    case JW_UPDATER: {
        s->aux = c->issue_job;
        char tag[FANOUT_TAG_MAX];
        fanout_tag_write(tag, c->issue_job, c->issue_seq, now_ns());
        Jobwire__V1__UpdateJobRequest r = JOBWIRE__V1__UPDATE_JOB_REQUEST__INIT;
        r.job_id = jw.ids[s->aux];
        r.progress_update_case = JOBWIRE__V1__UPDATE_JOB_REQUEST__PROGRESS_UPDATE_PROGRESS;
        r.progress = (double)(c->issue_seq % 101);
        r.current_task_update_case = JOBWIRE__V1__UPDATE_JOB_REQUEST__CURRENT_TASK_UPDATE_CURRENT_TASK;
        r.current_task = tag;
        if (jobwire__v1__update_job_request__get_packed_size(&r) > sizeof req)
            return -1; /* cannot happen with our fields; never overrun the buffer */
        len = jobwire__v1__update_job_request__pack(&r, req);
        return send_call(c, s->tag, M_UPDATE, req, len, jw.timeout_ms);
    }
    default:
        return -1;
    }
}

static int jw_connected(struct conn *c)
{
    c->max_frame = JW_MAX_FRAME;
    Jobwire__V1__Hello hello = JOBWIRE__V1__HELLO__INIT;
    hello.protocol_version = 1;
    hello.client_name = "jobwire-loadgen/1";
    Jobwire__V1__Frame f = JOBWIRE__V1__FRAME__INIT;
    f.kind_case = JOBWIRE__V1__FRAME__KIND_HELLO;
    f.hello = &hello;
    if (c->role == JW_WATCHER)
        c->watch_job = (uint32_t)c->index % jw.nids;
    return send_frame(c, &f);
}

/* ---- replies ---- */

/* Finds the job id (field 1) and current_task (field 22) of an encoded Job,
 * walking every field so a malformed job is noticed. */
static int scan_job(const uint8_t *p, size_t len, struct pb_field *id, struct pb_field *task)
{
    struct pb_reader r = pb_reader(p, len);
    struct pb_field f;
    int rc;
    id->len = 0;
    id->data = NULL;
    if (task != NULL) {
        task->len = 0;
        task->data = NULL;
    }
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == PB_LEN)
            *id = f;
        else if (f.num == 22 && f.wire == PB_LEN && task != NULL)
            *task = f;
    }
    return rc;
}

static int same_id(const struct pb_field *id, const char *want)
{
    return id->len == UUID_LEN && strncasecmp((const char *)id->data, want, UUID_LEN) == 0;
}

/* A Reply on a unary call: check it is the job (or created job) expected.
 * Returns 1 when the reply is right, 0 when it is wrong (an error), -1 when
 * the connection has failed. */
static int check_unary_reply(struct conn *c, struct slot *s, const uint8_t *msg, size_t len)
{
    struct pb_field id;
    const uint8_t *job = msg;
    size_t job_len = len;
    if (c->role == JW_SEED || c->role == JW_CREATE) {
        /* ConfigureResponse { Job job = 1; bool created = 2; } */
        struct pb_reader r = pb_reader(msg, len);
        struct pb_field f;
        int rc;
        job = NULL;
        while ((rc = pb_next(&r, &f)) == 1)
            if (f.num == 1 && f.wire == PB_LEN) {
                job = f.data;
                job_len = f.len;
            }
        if (rc < 0 || job == NULL) {
            conn_fail(c, "a malformed ConfigureResponse");
            return -1;
        }
    }
    if (scan_job(job, job_len, &id, NULL) < 0) {
        conn_fail(c, "a malformed Job in a reply");
        return -1;
    }
    switch (c->role) {
    case JW_SEED:
        if (!is_uuid((const char *)id.data, id.len))
            break;
        memcpy(jw.ids[s->aux], id.data, UUID_LEN);
        return 1;
    case JW_CREATE:
        if (!is_uuid((const char *)id.data, id.len))
            break;
        return 1;
    case JW_PROBE:
        if (!same_id(&id, jw.ids[s->aux]))
            break;
        free(jw.probe->job);
        jw.probe->job = malloc(len ? len : 1);
        if (jw.probe->job == NULL)
            die("out of memory");
        memcpy(jw.probe->job, msg, len);
        jw.probe->job_len = len;
        return 1;
    default:
        if (!same_id(&id, jw.ids[s->aux]))
            break;
        return 1;
    }
    err_report(&c->e->req_errs, "%s on stream %u returned another job (%.*s) than asked for", role_method(c->role),
               s->tag, (int)(id.len < 64 ? id.len : 64), id.data ? (const char *)id.data : "");
    return 0;
}

static int handle_watch_event(struct conn *c, const uint8_t *msg, size_t len, size_t frame_bytes)
{
    struct pb_reader r = pb_reader(msg, len);
    struct pb_field f, id = { 0 }, task = { 0 };
    uint64_t type = 0;
    const uint8_t *job = NULL;
    size_t job_len = 0;
    int rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == PB_VARINT)
            type = f.u64;
        else if (f.num == 3 && f.wire == PB_LEN) {
            job = f.data;
            job_len = f.len;
        }
    }
    if (rc < 0 || (job != NULL && scan_job(job, job_len, &id, &task) < 0)) {
        conn_fail(c, "a malformed WatchEvent");
        return -1;
    }
    uint32_t tjob = 0;
    uint64_t seq = 0, sent = 0;
    int tagged = job != NULL && task.len > 0 && fanout_tag_parse(task.data, task.len, &tjob, &seq, &sent) == 0;
    switch (type) {
    case JOBWIRE__V1__WATCH_EVENT_TYPE__WATCH_EVENT_TYPE_SNAPSHOT:
        if (c->state != CONN_HANDSHAKE || job == NULL || !same_id(&id, jw.ids[c->watch_job])) {
            conn_fail(c, "an unexpected SNAPSHOT event");
            return -1;
        }
        fanout_watch_started(c, tagged ? seq : 0);
        return 0;
    case JOBWIRE__V1__WATCH_EVENT_TYPE__WATCH_EVENT_TYPE_CHANGE:
        if (c->state != CONN_READY || !tagged) {
            conn_fail(c, "a CHANGE event %s", c->state != CONN_READY ? "before the SNAPSHOT" : "without an update tag");
            return -1;
        }
        fanout_event(c, tjob, seq, sent, len, frame_bytes);
        return 0;
    case JOBWIRE__V1__WATCH_EVENT_TYPE__WATCH_EVENT_TYPE_RESYNC:
        if (c->state == CONN_HANDSHAKE)
            fanout_watch_started(c, tagged ? seq : 0);
        fanout_resync(c, tagged ? seq : 0);
        return 0;
    case JOBWIRE__V1__WATCH_EVENT_TYPE__WATCH_EVENT_TYPE_BOOKMARK:
        fanout_bookmark(c);
        return 0;
    default:
        conn_fail(c, "a WatchEvent of unknown type %" PRIu64, type);
        return -1;
    }
}

/* A JobsEvent of a list-watch whose query is one job's id: the snapshot
 * (that job), SYNCED, then CHANGED events, as a WatchJob of the job sends. */
static int handle_jobs_event(struct conn *c, const uint8_t *msg, size_t len, size_t frame_bytes)
{
    struct pb_reader r = pb_reader(msg, len);
    struct pb_field f, id = { 0 }, task = { 0 };
    uint64_t type = 0;
    const uint8_t *job = NULL;
    size_t job_len = 0, jobs = 0;
    int rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == PB_VARINT)
            type = f.u64;
        else if (f.num == 3 && f.wire == PB_LEN) {
            job = f.data;
            job_len = f.len;
            jobs++;
        }
    }
    if (rc < 0 || jobs > 1 || (job != NULL && scan_job(job, job_len, &id, &task) < 0)) {
        conn_fail(c, "a malformed JobsEvent (or one with %zu jobs)", jobs);
        return -1;
    }
    if (job != NULL && !same_id(&id, jw.ids[c->watch_job])) {
        conn_fail(c, "a JobsEvent of another job than the watcher's query names");
        return -1;
    }
    uint32_t tjob = 0;
    uint64_t seq = 0, sent = 0;
    int tagged = job != NULL && task.len > 0 && fanout_tag_parse(task.data, task.len, &tjob, &seq, &sent) == 0;
    switch (type) {
    case JOBWIRE__V1__JOBS_EVENT_TYPE__JOBS_EVENT_TYPE_SNAPSHOT:
        if (c->state != CONN_HANDSHAKE || job == NULL) {
            conn_fail(c, "an unexpected SNAPSHOT event");
            return -1;
        }
        fanout_watch_started(c, tagged ? seq : 0);
        return 0;
    case JOBWIRE__V1__JOBS_EVENT_TYPE__JOBS_EVENT_TYPE_SYNCED:
        if (c->state != CONN_READY) {
            conn_fail(c, "SYNCED without the watched job in the snapshot");
            return -1;
        }
        return 0;
    case JOBWIRE__V1__JOBS_EVENT_TYPE__JOBS_EVENT_TYPE_CHANGED:
        if (c->state != CONN_READY || !tagged) {
            conn_fail(c, "a CHANGED event %s", c->state != CONN_READY ? "before the SNAPSHOT" : "without an update tag");
            return -1;
        }
        fanout_event(c, tjob, seq, sent, len, frame_bytes);
        return 0;
    case JOBWIRE__V1__JOBS_EVENT_TYPE__JOBS_EVENT_TYPE_BOOKMARK:
        fanout_bookmark(c);
        return 0;
    default:
        conn_fail(c, "a JobsEvent of type %" PRIu64 " the fan-out never causes", type);
        return -1;
    }
}

static int on_hello_ack(struct conn *c, const uint8_t *p, size_t len)
{
    if (c->state != CONN_HANDSHAKE) {
        conn_fail(c, "a second HelloAck");
        return -1;
    }
    Jobwire__V1__HelloAck *ack = jobwire__v1__hello_ack__unpack(NULL, len, p);
    if (ack == NULL) {
        conn_fail(c, "a HelloAck that does not decode");
        return -1;
    }
    uint32_t version = ack->protocol_version, streams = ack->max_concurrent_streams, frame = ack->max_frame_bytes;
    jobwire__v1__hello_ack__free_unpacked(ack, NULL);
    if (version != 1) {
        conn_fail(c, "the server speaks protocol version %u, not 1", version);
        return -1;
    }
    c->max_streams = streams;
    if (frame >= 65536 && frame <= JW_MAX_FRAME)
        c->max_frame = frame;
    if (c->depth > streams) {
        if (c->role == JW_SEED || c->role == JW_UPDATER) {
            c->depth = streams; /* our own pipelining: stay within the limit */
        } else {
            conn_fail(c, "--depth %u is above the server's max_concurrent_streams %u", c->depth, streams);
            return -1;
        }
    }
    if (c->role == JW_WATCHER && jw.list_watch) {
        Jobwire__V1__ListJobsRequest filter = JOBWIRE__V1__LIST_JOBS_REQUEST__INIT;
        filter.query = jw.ids[c->watch_job];
        Jobwire__V1__WatchJobsRequest w = JOBWIRE__V1__WATCH_JOBS_REQUEST__INIT;
        w.filter = &filter;
        uint8_t req[128];
        if (jobwire__v1__watch_jobs_request__get_packed_size(&w) > sizeof req)
            return -1; /* cannot happen with our fields; never overrun the buffer */
        size_t n = jobwire__v1__watch_jobs_request__pack(&w, req);
        return send_call(c, WATCH_STREAM, M_WATCH_JOBS, req, n, 0);
    }
    if (c->role == JW_WATCHER) {
        Jobwire__V1__WatchJobRequest w = JOBWIRE__V1__WATCH_JOB_REQUEST__INIT;
        uint8_t req[128];
        w.job_id = jw.ids[c->watch_job];
        if (jobwire__v1__watch_job_request__get_packed_size(&w) > sizeof req)
            return -1; /* cannot happen with our fields; never overrun the buffer */
        size_t n = jobwire__v1__watch_job_request__pack(&w, req);
        return send_call(c, WATCH_STREAM, M_WATCH, req, n, 0); /* a watch lives as long as the run */
    }
    engine_conn_ready(c);
    return 0;
}

static int on_end(struct conn *c, const uint8_t *p, size_t len, size_t frame_bytes)
{
    struct pb_reader r = pb_reader(p, len);
    struct pb_field f;
    uint64_t stream = 0, code = 0;
    const uint8_t *status = NULL;
    size_t status_len = 0;
    int rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == PB_VARINT)
            stream = f.u64;
        else if (f.num == 2 && f.wire == PB_LEN) {
            status = f.data;
            status_len = f.len;
        }
    }
    if (rc < 0) {
        conn_fail(c, "a malformed End");
        return -1;
    }
    struct pb_field reason = { 0 }, message = { 0 };
    if (status != NULL) {
        r = pb_reader(status, status_len);
        while ((rc = pb_next(&r, &f)) == 1) {
            if (f.num == 1 && f.wire == PB_VARINT)
                code = f.u64;
            else if (f.num == 2 && f.wire == PB_LEN)
                reason = f;
            else if (f.num == 3 && f.wire == PB_LEN)
                message = f;
        }
        if (rc < 0) {
            conn_fail(c, "a malformed Status");
            return -1;
        }
    }
    if (c->role == JW_WATCHER) {
        conn_fail(c, "the watch of job %s ended: %s %.*s: %.*s", jw.ids[c->watch_job], status_name(code),
                  (int)reason.len, reason.data ? (const char *)reason.data : "", (int)message.len,
                  message.data ? (const char *)message.data : "");
        return -1;
    }
    struct slot *s = stream <= UINT32_MAX ? conn_slot_by_tag(c, (uint32_t)stream) : NULL;
    if (s == NULL) {
        conn_fail(c, "an End for stream %" PRIu64 ", which is not open", stream);
        return -1;
    }
    s->rx_bytes += (uint32_t)frame_bytes;
    int ok = code == 0;
    if (!ok) {
        err_report(&c->e->req_errs, "%s on stream %u ended with %s %.*s: %.*s", role_method(c->role), s->tag,
                   status_name(code), (int)reason.len, reason.data ? (const char *)reason.data : "",
                   (int)message.len, message.data ? (const char *)message.data : "");
    } else if (!s->got_reply) {
        err_report(&c->e->req_errs, "%s on stream %u ended OK without a Reply", role_method(c->role), s->tag);
        ok = 0;
    } else if (s->got_reply == 2) {
        ok = 0; /* the reply was wrong; already reported */
    }
    if (c->role == JW_UPDATER)
        fanout_update_done(c, s, ok, -1);
    else
        engine_complete(c, s, ok);
    return 0;
}

static int on_reply(struct conn *c, const uint8_t *p, size_t len, size_t frame_bytes)
{
    struct pb_reader r = pb_reader(p, len);
    struct pb_field f;
    uint64_t stream = 0;
    const uint8_t *msg = (const uint8_t *)"";
    size_t msg_len = 0;
    int rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == PB_VARINT)
            stream = f.u64;
        else if (f.num == 2 && f.wire == PB_LEN) {
            msg = f.data;
            msg_len = f.len;
        }
    }
    if (rc < 0) {
        conn_fail(c, "a malformed Reply");
        return -1;
    }
    if (c->role == JW_WATCHER) {
        if (stream != WATCH_STREAM) {
            conn_fail(c, "a Reply for stream %" PRIu64 " on a watching connection", stream);
            return -1;
        }
        return jw.list_watch ? handle_jobs_event(c, msg, msg_len, frame_bytes)
                             : handle_watch_event(c, msg, msg_len, frame_bytes);
    }
    struct slot *s = stream <= UINT32_MAX ? conn_slot_by_tag(c, (uint32_t)stream) : NULL;
    if (s == NULL) {
        conn_fail(c, "a Reply for stream %" PRIu64 ", which is not open", stream);
        return -1;
    }
    if (s->got_reply) {
        conn_fail(c, "a second Reply on unary stream %" PRIu64, stream);
        return -1;
    }
    s->rx_bytes += (uint32_t)frame_bytes;
    rc = check_unary_reply(c, s, msg, msg_len);
    if (rc < 0)
        return -1;
    s->got_reply = rc == 1 ? 1 : 2;
    return 0;
}

static int on_ping(struct conn *c, const uint8_t *p, size_t len)
{
    struct pb_reader r = pb_reader(p, len);
    struct pb_field f;
    uint64_t payload = 0;
    int rc;
    while ((rc = pb_next(&r, &f)) == 1)
        if (f.num == 1 && f.wire == PB_VARINT)
            payload = f.u64;
    if (rc < 0) {
        conn_fail(c, "a malformed Ping");
        return -1;
    }
    Jobwire__V1__Pong pong = JOBWIRE__V1__PONG__INIT;
    pong.payload = payload;
    Jobwire__V1__Frame fr = JOBWIRE__V1__FRAME__INIT;
    fr.kind_case = JOBWIRE__V1__FRAME__KIND_PONG;
    fr.pong = &pong;
    return send_frame(c, &fr);
}

/* A draining server (UNAVAILABLE / SERVER_SHUTTING_DOWN) still finishes the
 * calls up to last_stream_id; the later ones were not processed and are lost.
 * Any other GoAway closes the connection at once, calls and all. Either way
 * the connection counts as failed: the run did not go as asked. */
static int on_goaway(struct conn *c, const uint8_t *p, size_t len)
{
    Jobwire__V1__GoAway *g = jobwire__v1__go_away__unpack(NULL, len, p);
    if (g == NULL) {
        conn_fail(c, "a GoAway that does not decode");
        return -1;
    }
    uint64_t code = g->status ? (uint64_t)g->status->code : 0;
    char why[512];
    snprintf(why, sizeof why, "the server sent GoAway %s %s: %s (last stream id %u)", status_name(code),
             g->status ? g->status->reason : "", g->status ? g->status->message : "", g->last_stream_id);
    int draining = code == JOBWIRE__V1__STATUS_CODE__UNAVAILABLE && g->status != NULL &&
                   strcmp(g->status->reason, "SERVER_SHUTTING_DOWN") == 0 && c->role != JW_WATCHER;
    uint32_t last = g->last_stream_id;
    jobwire__v1__go_away__free_unpacked(g, NULL);
    if (!draining) {
        conn_fail(c, "%s", why);
        return -1;
    }
    for (uint32_t i = 0; i < c->depth; i++)
        if (c->slots[i].used && c->slots[i].tag > last)
            engine_lose(c, &c->slots[i]);
    conn_drain(c, why);
    return c->state == CONN_DEAD ? -1 : 0;
}

static int handle_frame(struct conn *c, const uint8_t *p, size_t len)
{
    struct pb_reader r = pb_reader(p, len);
    struct pb_field f, kind = { 0 };
    int kinds = 0, rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        kind = f;
        kinds++;
    }
    if (rc < 0 || kinds != 1 || kind.wire != PB_LEN) {
        conn_fail(c, "a malformed Frame (%d fields)", kinds);
        return -1;
    }
    switch (kind.num) {
    case 2:
        return on_hello_ack(c, kind.data, kind.len);
    case 4:
        return on_reply(c, kind.data, kind.len, len + 4);
    case 5:
        return on_end(c, kind.data, kind.len, len + 4);
    case 7:
        return on_ping(c, kind.data, kind.len);
    case 8:
        return 0; /* a Pong: we send no pings */
    case 9:
        return on_goaway(c, kind.data, kind.len);
    default:
        conn_fail(c, "a Frame of kind %u, which a server does not send", kind.num);
        return -1;
    }
}

static long jw_input(struct conn *c, const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (len - off >= 4) {
        uint32_t n = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
        if (n == 0) {
            conn_fail(c, "an empty frame (length prefix 0)");
            return -1;
        }
        if (n > c->max_frame) {
            conn_fail(c, "a frame of %u bytes, above the connection's maximum of %u", n, c->max_frame);
            return -1;
        }
        if (len - off - 4 < n)
            break;
        if (handle_frame(c, p + off + 4, n) != 0)
            return -1;
        off += 4 + (size_t)n;
    }
    return (long)off;
}

const struct proto jobwire_proto = {
    .name = "jobwire",
    .on_connected = jw_connected,
    .on_input = jw_input,
    .issue = jw_issue,
    .max_message = JW_MAX_FRAME + 4,
};

/* ---- setup phases ---- */

void jobwire_seed(struct engine *e, uint32_t n, double *seconds)
{
    ids_alloc(n);
    uint64_t t0 = now_ns();
    struct conn **cs = engine_open(e, 1, JW_SEED, 64, 30);
    struct closed_loop_spec spec = { .depth = 64, .seconds = 600, .max_requests = n, .drain_s = 30,
                                     .label = "seeding" };
    struct run run;
    struct closed_loop_result res;
    engine_closed_loop(e, cs, 1, &spec, &run, &res);
    if (run.ok != n || run.errors || run.lost)
        die("seeding %u jobs failed: %llu created, %llu errors, %llu lost", n, (unsigned long long)run.ok,
            (unsigned long long)run.errors, (unsigned long long)run.lost);
    engine_close(e, cs, 1);
    e->run = NULL;
    *seconds = (double)(now_ns() - t0) / 1e9;
    log_msg("seeded %u jobs in %.2f s", n, *seconds);
}

void jobwire_probe(struct engine *e, struct jobwire_probe *out)
{
    memset(out, 0, sizeof *out);
    jw.probe = out;
    struct conn **cs = engine_open(e, 1, JW_PROBE, 1, 30);
    struct closed_loop_spec spec = { .depth = 1, .seconds = 30, .max_requests = 1, .drain_s = 10, .label = "probe" };
    struct run run;
    struct closed_loop_result res;
    engine_closed_loop(e, cs, 1, &spec, &run, &res);
    if (run.ok != 1 || out->job == NULL)
        die("GetMetadata of job %s failed", jw.ids[0]);
    out->request_bytes = (uint32_t)run.tx_bytes;
    out->response_bytes = (uint32_t)run.rx_bytes;
    engine_close(e, cs, 1);
    e->run = NULL;
    jw.probe = NULL;

    /* Cross-check the allocation-free reader against protobuf-c: the whole
     * job must decode, be the one asked for, and (when seeded here) carry
     * what was configured. */
    Jobwire__V1__Job *job = jobwire__v1__job__unpack(NULL, out->job_len, out->job);
    if (job == NULL)
        die("the Job returned by GetMetadata does not decode with protobuf-c");
    if (strcasecmp(job->job_id, jw.ids[0]) != 0)
        die("GetMetadata returned job %s, asked for %s", job->job_id, jw.ids[0]);
    if (jw.das_configure != NULL && strcmp(job->type, "das_stream") == 0 &&
        (job->n_frequencies_list != 500 || job->n_channel_to_stream_index != 50 || job->metadata == NULL))
        die("the seeded job came back without its 500 frequencies and 50 channels");
    log_msg("GetMetadata: request %u bytes, response %u bytes on the wire; the Job is %zu bytes (%s, %zu "
            "frequencies)",
            out->request_bytes, out->response_bytes, out->job_len, job->type, job->n_frequencies_list);
    jobwire__v1__job__free_unpacked(job, NULL);
}
