// JobWire for browsers: a dependency-free ES module over jobwired's HTTP API
// (docs/HTTP.md). The dashboard is built on it; front ends import it as is.
//
//   import { JobWire } from "./jobwire.js";
//   const jobwire = new JobWire({ apiKey });              // same origin; or { baseURL: "https://jobs.example" }
//                                                         // or every node: { baseURLs: ["https://a", "https://b"] }
//   const job = await jobwire.get(jobId);
//   const watch = jobwire.watch(jobId, { onEvent: (event) => render(event.job) });
//   await jobwire.cancel(jobId, { reason: "user" });

/** Statuses after which a job no longer changes (until a retry starts a new attempt). */
export const TERMINAL_STATUSES = Object.freeze(["completed", "failed", "cancelled"]);

/** Every status, in lifecycle order. */
export const STATUSES = Object.freeze(["pending", "running", "cancelling", "completed", "failed", "cancelled"]);

export function isTerminal(status) {
  return TERMINAL_STATUSES.includes(status);
}

// The HTTP status of each error code (docs/HTTP.md, "Errors"), for errors that arrive inside an event stream.
const HTTP_STATUS_OF_CODE = {
  INVALID_ARGUMENT: 400, OUT_OF_RANGE: 400, UNAUTHENTICATED: 401, PERMISSION_DENIED: 403, NOT_FOUND: 404,
  ALREADY_EXISTS: 409, FAILED_PRECONDITION: 409, ABORTED: 409, RESOURCE_EXHAUSTED: 429, UNIMPLEMENTED: 501,
  UNAVAILABLE: 503, DEADLINE_EXCEEDED: 504,
};

/**
 * A failed call: the HTTP status and the server's error body
 * (`{"error": {"code", "reason", "message"}}`), or code `UNAVAILABLE` with
 * reason `NETWORK` when the server could not be reached.
 */
export class JobWireError extends Error {
  constructor(httpStatus, code, reason, message, retryAfterSeconds = null) {
    super(message);
    this.name = "JobWireError";
    this.httpStatus = httpStatus;
    this.code = code;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  static async from(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // Not JSON (a proxy's page, say): the status alone describes it.
    }
    const error = body && typeof body.error === "object" && body.error !== null ? body.error : {};
    const retryAfter = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
    return new JobWireError(response.status, error.code ?? `HTTP_${response.status}`, error.reason ?? "",
      error.message ?? `${response.status} ${response.statusText}`, Number.isNaN(retryAfter) ? null : retryAfter);
  }

  /** The error an event stream ends with (`event: error`), with the HTTP status its code answers elsewhere. */
  static fromEvent(body) {
    return new JobWireError(HTTP_STATUS_OF_CODE[body.code] ?? 500, body.code, body.reason ?? "", body.message ?? body.code);
  }

  static network(cause) {
    const error = new JobWireError(0, "UNAVAILABLE", "NETWORK", `jobwired is unreachable: ${cause?.message ?? cause}`);
    error.cause = cause;
    return error;
  }
}

// Filter members (camelCase here) and their query parameters (docs/HTTP.md, "List filters").
const FILTER_PARAMETERS = {
  type: "type", search: "search", createdAfter: "created_after", createdBefore: "created_before",
  priorityMin: "priority_min", priorityMax: "priority_max", orderBy: "order_by", ascending: "ascending",
  pageSize: "page_size", pageToken: "page_token",
};

/**
 * The query of a job filter: `status` (a status or a list), `labels` (an
 * object or `"k=v"` strings), and the members of FILTER_PARAMETERS.
 */
export function filterQuery(filters = {}) {
  const query = new URLSearchParams();
  for (const [member, value] of Object.entries(filters)) {
    if (value === undefined || value === null || value === "") continue;
    if (member === "status") {
      const statuses = Array.isArray(value) ? value : [value];
      if (statuses.length > 0) query.set("status", statuses.join(","));
    } else if (member === "labels") {
      const pairs = Array.isArray(value) ? value : Object.entries(value).map(([key, label]) => `${key}=${label}`);
      for (const pair of pairs) query.append("label", pair);
    } else if (member in FILTER_PARAMETERS) {
      query.set(FILTER_PARAMETERS[member], String(value));
    } else {
      throw new TypeError(`unknown job filter "${member}"`);
    }
  }
  return query;
}

/** A client of one jobwired's HTTP port. */
export class JobWire {
  /**
   * @param {object} options
   * @param {string} [options.baseURL] the server's origin; the page's own by default
   * @param {string[]} [options.baseURLs] several nodes serving the same jobs (docs/OPERATIONS.md, "Several
   *   nodes"), instead of `baseURL`: when one cannot be reached the client moves to the next, reads are sent
   *   again there, and event streams resume there
   * @param {string} [options.apiKey] sent as `Authorization: Bearer`; never put in a URL
   * @param {typeof fetch} [options.fetch]
   * @param {typeof EventSource} [options.EventSource]
   */
  constructor({ baseURL = "", baseURLs, apiKey = "", fetch: fetchImplementation, EventSource: eventSource } = {}) {
    this.baseURLs = (baseURLs?.length ? baseURLs : [baseURL]).map((url) => url.replace(/\/+$/, ""));
    this.serverIndex = 0;
    this.apiKey = apiKey;
    this.fetch = fetchImplementation ?? globalThis.fetch.bind(globalThis);
    this.EventSource = eventSource ?? globalThis.EventSource;
    this.streamToken = null;
  }

  /** The node calls go to now. */
  get baseURL() {
    return this.baseURLs[this.serverIndex];
  }

  url(path, query) {
    const search = query && [...query].length > 0 ? `?${query}` : "";
    return `${this.baseURL}${path}${search}`;
  }

  /**
   * `baseURL` could not be reached: later calls go to the next node. A stream token is one node's, so a new one
   * is minted there.
   */
  serverUnreachable(baseURL) {
    if (this.baseURLs.length < 2 || baseURL !== this.baseURL) return;
    this.serverIndex = (this.serverIndex + 1) % this.baseURLs.length;
    this.streamToken = null;
  }

  /**
   * Sends one call; the parsed JSON body, `null` for 204/304, or a JobWireError. When the node cannot be reached
   * the call goes to the next one if resending it is safe (reads, stream tokens, creates with an idempotency key);
   * any other call fails with the network error, since it may have been applied, and the next call goes on.
   */
  async request(method, path, { query, body, headers = {}, signal } = {}) {
    const allHeaders = { Accept: "application/json", ...headers };
    if (this.apiKey) allHeaders.Authorization = `Bearer ${this.apiKey}`;
    if (body !== undefined) allHeaders["Content-Type"] = "application/json";
    const resendable = method === "GET" || method === "HEAD" || path === "/v1/stream-tokens" || "Idempotency-Key" in headers;
    let response;
    for (let tried = 1; ; tried += 1) {
      const baseURL = this.baseURL;
      try {
        response = await this.fetch(this.url(path, query), {
          method, headers: allHeaders, body: body === undefined ? undefined : JSON.stringify(body), signal,
          cache: "no-store",
        });
        break;
      } catch (cause) {
        if (cause?.name === "AbortError") throw cause;
        this.serverUnreachable(baseURL);
        if (!resendable || tried >= this.baseURLs.length) throw JobWireError.network(cause);
      }
    }
    if (!response.ok) throw await JobWireError.from(response);
    if (response.status === 204 || response.status === 304) return null;
    return response.json();
  }

  /** GetMetadata: the job, with its last `logTail` log lines. */
  get(jobId, { logTail = 0, signal } = {}) {
    const query = new URLSearchParams();
    if (logTail > 0) query.set("log_tail", String(logTail));
    return this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}`, { query, signal });
  }

  /** One page of ListJobs: `{ jobs, nextPageToken, totalCount }`. */
  async list(filters = {}, { signal } = {}) {
    const page = await this.request("GET", "/v1/jobs", { query: filterQuery(filters), signal });
    return { jobs: page.jobs, nextPageToken: page.next_page_token, totalCount: page.total_count };
  }

  /** Every job the filters match, page by page. */
  async *listAll(filters = {}, { signal } = {}) {
    let pageToken = "";
    do {
      const page = await this.list({ ...filters, pageToken }, { signal });
      yield* page.jobs;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /** Configure: `idempotencyKey` makes a repeat return the same job. */
  create(spec, { idempotencyKey, signal } = {}) {
    const headers = idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {};
    return this.request("POST", "/v1/jobs", { body: spec, headers, signal });
  }

  /** UpdateJob (a worker's report); `ifRevision` refuses it if the job moved on (412). */
  update(jobId, changes, { ifRevision, signal } = {}) {
    return this.request("PATCH", `/v1/jobs/${encodeURIComponent(jobId)}`,
      { body: changes, headers: JobWire.#ifMatch(ifRevision), signal });
  }

  /** Cancel: a job with a worker goes to `cancelling` until the worker stops; one without ends at once. */
  cancel(jobId, { reason = "", signal } = {}) {
    return this.request("POST", `/v1/jobs/${encodeURIComponent(jobId)}:cancel`, { body: { reason }, signal });
  }

  /** Retry: a failed or cancelled job starts a new attempt. */
  retry(jobId, { ifRevision, signal } = {}) {
    return this.request("POST", `/v1/jobs/${encodeURIComponent(jobId)}:retry`,
      { headers: JobWire.#ifMatch(ifRevision), signal });
  }

  delete(jobId, { signal } = {}) {
    return this.request("DELETE", `/v1/jobs/${encodeURIComponent(jobId)}`, { signal });
  }

  health({ detailed = false, signal } = {}) {
    return this.request("GET", detailed ? "/v1/health/detailed" : "/v1/health", { signal });
  }

  /** Stats over the jobs created in [from, to) (ISO 8601 strings, both optional). */
  stats({ from, to, signal } = {}) {
    const query = new URLSearchParams();
    if (from) query.set("from", from);
    if (to) query.set("to", to);
    return this.request("GET", "/v1/stats", { query, signal });
  }

  /**
   * A stream token for EventSource, reused while it has a minute left: the
   * key itself never goes into a URL (docs/SECURITY.md).
   */
  async eventStreamToken({ fresh = false } = {}) {
    const now = Date.now();
    if (!fresh && this.streamToken && this.streamToken.expiresAt - now > 60_000) return this.streamToken.token;
    const minted = await this.request("POST", "/v1/stream-tokens");
    this.streamToken = { token: minted.token, expiresAt: Date.parse(minted.expires_at), tenant: minted.tenant };
    return minted.token;
  }

  /**
   * Watches one job: `onEvent({type, revision, job, new_log_lines})` for each
   * `snapshot`, `change` and `resync`, in revision order with no gap or
   * duplicate across reconnects. `after` resumes after a revision a previous
   * watch saw (a page reload keeps it in sessionStorage). The watch ends by
   * itself after the job's terminal event.
   */
  watch(jobId, { after = 0, logTail = 0, onEvent = () => {}, onState = () => {}, onError = () => {} } = {}) {
    return new JobWatch(this, jobId, { after, logTail, onEvent, onState, onError });
  }

  /**
   * The list-watch: every job the filters match, kept current.
   * `onChange(watch, event)` after each event; `watch.jobs` is the Map of
   * jobs by id and `watch.synced` tells whether it is complete. `cursor`
   * and `jobs` resume a previous watch's state (`watch.cursor`, `watch.jobs`).
   */
  watchJobs(filters = {}, { cursor = "", jobs = null, onChange = () => {}, onState = () => {}, onError = () => {} } = {}) {
    return new JobsWatch(this, filters, { cursor, jobs, onChange, onState, onError });
  }

  static #ifMatch(revision) {
    return revision === undefined || revision === null ? {} : { "If-Match": `"${revision}"` };
  }
}

// Reconnection delays: quick at first (a restart is usually short), then at most every 10 s.
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 5000, 10000];
// The server sends a bookmark or heartbeat every --http-heartbeat (15 s) on an idle stream; nothing
// for this long means the connection died without a reset (a network change, a suspended laptop).
const SILENCE_LIMIT_MS = 45_000;

/**
 * One event stream that survives disconnects: it opens an EventSource on a
 * fresh URL with the position it reached (not EventSource's own retry, which
 * would reuse an expired stream token), finds out through `fetch` why a
 * connection was refused, and reconnects with backoff while the cause is
 * transient. States: `connecting`, `live`, `reconnecting`, `ended`, `failed`,
 * `closed`.
 */
class ResumingEventStream {
  constructor(client, { onState, onError }) {
    this.client = client;
    this.onState = onState;
    this.onError = onError;
    this.state = "connecting";
    this.source = null;
    this.attempt = 0;
    this.timer = null;
    this.silenceTimer = null;
    this.stopped = false;
  }

  /** Subclasses: the path, the query (with the resume point) and the event names. */
  path() { throw new Error("abstract"); }
  query() { throw new Error("abstract"); }
  get eventNames() { throw new Error("abstract"); }
  handle(_name, _data, _id) { throw new Error("abstract"); }
  /** A refusal the subclass can recover from (true: reconnect at once). */
  recover(_error) { return false; }

  setState(state, detail) {
    if (this.state === state && detail === undefined) return;
    this.state = state;
    this.onState(state, detail);
  }

  start() {
    this.open();
    return this;
  }

  async open() {
    if (this.stopped) return;
    let token;
    try {
      token = await this.client.eventStreamToken({ fresh: this.attempt > 0 });
    } catch (error) {
      this.refused(error);
      return;
    }
    if (this.stopped) return;
    const query = this.query();
    query.set("stream_token", token);
    this.baseURL = this.client.baseURL;
    const url = this.client.url(this.path(), query);
    const source = new this.client.EventSource(url);
    this.source = source;
    let opened = false;
    source.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.setState("live");
      this.armSilenceTimer();
    };
    for (const name of this.eventNames) {
      source.addEventListener(name, (event) => {
        if (source !== this.source) return;
        this.armSilenceTimer();
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        this.handle(name, data, event.lastEventId);
      });
    }
    // "error" is both the server's `event: error` (a MessageEvent with data) and the connection's failure.
    source.addEventListener("error", (event) => {
      if (source !== this.source) return;
      if (typeof event.data === "string") {
        let body = null;
        try {
          body = JSON.parse(event.data).error;
        } catch {
          // Fall through to a plain reconnect.
        }
        if (body) this.serverError(JobWireError.fromEvent(body));
        return;
      }
      this.disconnected(url, opened);
    });
  }

  /** The server ended the stream with an error event; subclasses decide, shutting down means reconnect. */
  serverError(error) {
    if (error.reason === "SERVER_SHUTTING_DOWN") return;
    this.fail(error);
  }

  /** The connection closed or was refused: learn why, then reconnect or stop. */
  async disconnected(url, opened) {
    this.closeSource();
    if (this.stopped || this.state === "ended" || this.state === "failed") return;
    if (opened) {
      this.setState("reconnecting");
      this.schedule();
      return;
    }
    // EventSource hides the status of a refused connection: ask once with fetch.
    let refusal = null;
    const abort = new AbortController();
    try {
      const response = await this.client.fetch(url, { headers: { Accept: "text/event-stream" }, signal: abort.signal, cache: "no-store" });
      if (response.status === 204) {
        abort.abort();
        this.end();
        return;
      }
      if (!response.ok) refusal = await JobWireError.from(response);
      abort.abort();
    } catch (cause) {
      if (cause?.name !== "AbortError") {
        refusal = JobWireError.network(cause);
        this.client.serverUnreachable(this.baseURL);
      }
    }
    if (refusal) {
      this.refused(refusal);
    } else {
      this.setState("reconnecting");
      this.schedule();
    }
  }

  refused(error) {
    if (this.stopped) return;
    const transient = error.httpStatus === 0 || error.httpStatus >= 500 || error.httpStatus === 429
      || error.reason === "INVALID_STREAM_TOKEN";
    if (transient) {
      this.setState("reconnecting", error);
      this.schedule(error.retryAfterSeconds ? error.retryAfterSeconds * 1000 : undefined);
    } else if (this.recover(error)) {
      this.setState("reconnecting", error);
      this.schedule(0);
    } else {
      this.fail(error);
    }
  }

  schedule(delayMs) {
    if (this.stopped) return;
    const delay = delayMs ?? RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  armSilenceTimer() {
    clearTimeout(this.silenceTimer);
    const source = this.source;
    this.silenceTimer = setTimeout(() => {
      if (source === this.source && !this.stopped) this.disconnected("", true);
    }, SILENCE_LIMIT_MS);
  }

  closeSource() {
    clearTimeout(this.silenceTimer);
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  end() {
    this.closeSource();
    this.setState("ended");
  }

  fail(error) {
    this.closeSource();
    clearTimeout(this.timer);
    this.setState("failed", error);
    this.onError(error);
  }

  /** Stops for good; nothing more is delivered. */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.closeSource();
    this.setState("closed");
  }
}

/** `GET /v1/jobs/{id}/events`, resumed by revision. */
export class JobWatch extends ResumingEventStream {
  constructor(client, jobId, { after, logTail, onEvent, onState, onError }) {
    super(client, { onState, onError });
    this.jobId = jobId;
    this.revision = after;
    this.logTail = logTail;
    this.onEvent = onEvent;
    this.job = null;
    this.start();
  }

  path() {
    return `/v1/jobs/${encodeURIComponent(this.jobId)}/events`;
  }

  query() {
    const query = new URLSearchParams();
    if (this.revision > 0) query.set("after_revision", String(this.revision));
    else if (this.logTail > 0) query.set("log_tail", String(this.logTail));
    return query;
  }

  get eventNames() {
    return ["snapshot", "change", "resync", "bookmark"];
  }

  handle(name, data) {
    if (name === "bookmark") return;
    // A reconnect races nothing (one source at a time), but an event at or
    // below the position would be a duplicate: never deliver it twice.
    if (name === "change" && data.revision <= this.revision) return;
    this.revision = data.revision;
    this.job = data.job;
    this.onEvent(data);
    // The server ends the stream after the terminal event; 204 on reconnect confirms it.
    if (isTerminal(data.job.status)) this.end();
  }
}

/** `GET /v1/events`, the list-watch, resumed by cursor, holding the matching jobs. */
export class JobsWatch extends ResumingEventStream {
  constructor(client, filters, { cursor, jobs, onChange, onState, onError }) {
    super(client, { onState, onError });
    this.filters = filters;
    this.cursor = cursor && jobs ? cursor : "";
    this.jobs = new Map(this.cursor && jobs ? jobs.map((job) => [job.job_id, job]) : []);
    // Jobs of a snapshot in progress; they replace `jobs` at `synced`.
    this.incoming = this.cursor ? null : new Map();
    this.synced = false;
    this.onChange = onChange;
    this.start();
  }

  path() {
    return "/v1/events";
  }

  query() {
    const query = filterQuery({ ...this.filters, orderBy: undefined, ascending: undefined });
    if (this.cursor) query.set("cursor", this.cursor);
    return query;
  }

  get eventNames() {
    return ["snapshot", "synced", "entered", "changed", "left", "resync", "bookmark"];
  }

  /** A cursor the server no longer knows (another server run, or history gone): start over. */
  recover(error) {
    if (error.reason !== "INVALID_CURSOR") return false;
    this.cursor = "";
    this.incoming = new Map();
    this.synced = false;
    return true;
  }

  handle(name, data, id) {
    if (id) this.cursor = id;
    switch (name) {
      case "resync":
        this.incoming = new Map();
        this.synced = false;
        break;
      case "snapshot":
        for (const job of data.jobs) (this.incoming ?? this.jobs).set(job.job_id, job);
        break;
      case "synced":
        if (this.incoming) this.jobs = this.incoming;
        this.incoming = null;
        this.synced = true;
        break;
      case "entered":
      case "changed":
        for (const job of data.jobs) this.jobs.set(job.job_id, job);
        break;
      case "left":
        this.jobs.delete(data.job_id);
        break;
      case "bookmark":
        return;
      default:
        return;
    }
    this.onChange(this, data);
  }
}
