// The job view: every field of one job, its progress and log growing live
// (`GET /v1/jobs/{id}/events`), each event in a timeline, Cancel and Retry.
// Its state (job, revision, log, timeline) is kept in sessionStorage with the
// revision it describes, so a reload resumes after that revision.
import { session } from "./session.js";
import * as format from "./format.js";

const LOG_TAIL = 200;
// How often an ended job is looked at again: a retry from elsewhere (the CLI, another tab) starts it anew, and the
// event stream of an ended job has closed.
const ENDED_RECHECK_MS = 5_000;
const MAX_LOG_LINES = 1000;
const MAX_TIMELINE = 500;

export class JobView {
  constructor(context) {
    this.context = context;
    this.section = document.getElementById("job-view");
    this.heading = document.getElementById("job-heading");
    this.badge = document.getElementById("job-status");
    this.bar = document.getElementById("job-progress");
    this.progressText = document.getElementById("job-progress-text");
    this.fields = document.getElementById("job-fields");
    this.log = document.getElementById("job-log");
    this.logCount = document.getElementById("log-count");
    this.timeline = document.getElementById("job-timeline");
    this.cancelButton = document.getElementById("cancel-job");
    this.retryButton = document.getElementById("retry-job");
    this.actionError = document.getElementById("action-error");
    this.confirmDialog = document.getElementById("confirm-dialog");
    this.jobId = "";
    this.state = null;
    this.watch = null;
    this.recheckTimer = 0;
    this.frame = 0;
    this.renderedRevision = -1;
    this.renderedLog = 0;
    this.renderedTimeline = 0;
    this.cancelButton.addEventListener("click", () => this.act("cancel"));
    this.retryButton.addEventListener("click", () => this.act("retry"));
  }

  start(params) {
    const jobId = params.get("job");
    if (jobId === this.jobId && this.watch) return;
    this.stop();
    this.jobId = jobId;
    this.state = session.job(jobId);
    this.showActionError("");
    this.clear();
    if (this.state) this.schedule();
    else this.heading.textContent = "Loading…";
    this.openWatch();
  }

  openWatch() {
    clearInterval(this.recheckTimer);
    this.watch?.close();
    this.watch = this.context.client.watch(this.jobId, {
      after: this.state?.revision ?? 0,
      logTail: LOG_TAIL,
      onEvent: (event) => this.received(event),
      onState: (state, detail) => {
        this.context.showConnection(state, detail);
        if (state === "ended") this.recheckWhileEnded();
      },
      onError: (error) => this.failed(error),
    });
  }

  /** While the job has ended, looks at it every ENDED_RECHECK_MS; a newer revision (a retry) reopens the watch. */
  recheckWhileEnded() {
    clearInterval(this.recheckTimer);
    const jobId = this.jobId;
    this.recheckTimer = setInterval(async () => {
      let job;
      try {
        job = await this.context.client.get(jobId);
      } catch {
        return; // Unreachable, deleted or refused: the next look, or a reload, says so.
      }
      if (jobId === this.jobId && this.state && job.revision > this.state.revision) {
        clearInterval(this.recheckTimer);
        this.openWatch();
      }
    }, ENDED_RECHECK_MS);
  }

  stop() {
    this.save();
    clearInterval(this.recheckTimer);
    this.watch?.close();
    this.watch = null;
    this.jobId = "";
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  save() {
    if (this.jobId && this.state) session.saveJob(this.jobId, this.state);
  }

  clear() {
    this.renderedRevision = -1;
    this.renderedLog = 0;
    this.renderedTimeline = 0;
    this.log.replaceChildren();
    this.timeline.replaceChildren();
    this.fields.replaceChildren();
    this.progressText.textContent = "";
  }

  received(event) {
    const job = event.job;
    const state = this.state ?? { revision: 0, job, log: [], timeline: [], logDropped: 0, timelineDropped: 0 };
    if (event.type === "snapshot") {
      state.log = [...(job.log_tail ?? [])];
    } else if (event.type === "resync") {
      // The changes in between are gone from the server's history: the job is whole, the log lines of the gap are not.
      state.log.push(`… log lines between revisions ${state.revision} and ${event.revision} were not kept by the server`);
    }
    state.log.push(...(event.new_log_lines ?? []));
    if (state.log.length > MAX_LOG_LINES) {
      state.logDropped += state.log.length - MAX_LOG_LINES;
      state.log = state.log.slice(-MAX_LOG_LINES);
      this.renderedLog = -1;
    }
    state.timeline.push({
      revision: event.revision, type: event.type, status: job.status, progress: job.progress,
      task: job.current_task, at: job.updated_at,
    });
    if (state.timeline.length > MAX_TIMELINE) {
      state.timelineDropped += state.timeline.length - MAX_TIMELINE;
      state.timeline = state.timeline.slice(-MAX_TIMELINE);
      this.renderedTimeline = -1;
    }
    state.revision = event.revision;
    state.job = job;
    this.state = state;
    this.schedule();
  }

  failed(error) {
    if (error.httpStatus === 401) {
      this.context.unauthenticated(error);
    } else if (error.reason === "JOB_DELETED") {
      this.context.showPageError("This job was deleted.");
    } else if (error.httpStatus === 404) {
      this.context.showPageError(`No job ${this.jobId} here: it may have expired, or belong to another tenant.`);
      this.heading.textContent = "Job not found";
    } else {
      this.context.showPageError(`The job could not be watched: ${error.message}`);
    }
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    const state = this.state;
    if (!state) return;
    const job = state.job;
    if (this.renderedRevision !== state.revision) {
      this.renderedRevision = state.revision;
      this.renderJob(job);
    }
    this.renderLog(state);
    this.renderTimeline(state);
    this.save();
  }

  renderJob(job) {
    this.heading.textContent = job.type || "Job";
    document.title = `${job.type || job.job_id} · ${format.statusName(job.status)} · JobWire`;
    this.badge.dataset.status = job.status;
    this.badge.textContent = format.statusName(job.status);
    this.bar.dataset.status = job.status;
    this.bar.style.setProperty("--p", String(Math.max(0, Math.min(100, job.progress)) / 100));
    this.bar.setAttribute("aria-valuenow", String(job.progress));
    const parts = [format.statusName(job.status), format.percent(job.progress)];
    if (job.current_task) parts.push(job.current_task);
    if (job.status === "running" && job.eta_seconds !== null) parts.push(`about ${format.duration(job.eta_seconds)} left`);
    format.setText(this.progressText, parts.join(" — "));
    this.cancelButton.disabled = !(job.status === "pending" || job.status === "running");
    this.retryButton.disabled = !(job.status === "failed" || job.status === "cancelled");
    this.fields.replaceChildren(...fieldNodes(job));
  }

  renderLog(state) {
    if (this.renderedLog < 0) {
      this.log.replaceChildren();
      this.renderedLog = 0;
    }
    const atBottom = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 4;
    const lines = state.log.slice(this.renderedLog).map((line) => format.element("li", {}, line));
    if (lines.length > 0) this.log.append(...lines);
    this.renderedLog = state.log.length;
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
    const dropped = state.logDropped ? `, the first ${format.count(state.logDropped)} not shown` : "";
    format.setText(this.logCount, `(${format.count(state.job.log_line_count)} lines${dropped})`);
  }

  renderTimeline(state) {
    if (this.renderedTimeline < 0) {
      this.timeline.replaceChildren();
      this.renderedTimeline = 0;
    }
    const entries = state.timeline.slice(this.renderedTimeline).map((entry) => format.element("li",
      { dataset: { revision: entry.revision, type: entry.type } },
      format.element("span", { class: "revision" }, `#${entry.revision}`),
      format.element("span", {}, [format.statusName(entry.status), format.percent(entry.progress), entry.task, entry.type === "change" ? "" : entry.type]
        .filter(Boolean).join(" · ")),
      format.element("time", { datetime: entry.at, class: "muted" }, format.dateTime(entry.at))));
    if (entries.length > 0) this.timeline.append(...entries);
    this.renderedTimeline = state.timeline.length;
  }

  showActionError(message) {
    this.actionError.textContent = message;
    this.actionError.hidden = !message;
  }

  confirm(title, text, action) {
    document.getElementById("confirm-heading").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-yes").textContent = action;
    this.confirmDialog.returnValue = "";
    this.confirmDialog.showModal();
    return new Promise((resolve) => {
      this.confirmDialog.addEventListener("close", () => resolve(this.confirmDialog.returnValue === "yes"), { once: true });
    });
  }

  async act(action) {
    const job = this.state?.job;
    if (!job) return;
    const confirmed = action === "cancel"
      ? await this.confirm("Cancel this job?", "A worker running it is told to stop: the job shows Cancelling until the worker confirms, then Cancelled. A job with no worker is cancelled at once.", "Cancel job")
      : await this.confirm("Retry this job?", "A new attempt starts, pending until a worker takes it; this attempt stays under Previous attempts.", "Retry job");
    if (!confirmed) return;
    this.showActionError("");
    try {
      if (action === "cancel") await this.context.client.cancel(job.job_id, { reason: "cancelled from the dashboard" });
      else await this.context.client.retry(job.job_id, { ifRevision: job.revision });
    } catch (error) {
      if (error.httpStatus === 401) this.context.unauthenticated(error);
      else this.showActionError(`${action === "cancel" ? "Cancel" : "Retry"} was refused: ${error.message} (${error.reason || error.code})`);
      return;
    }
    // The watch ended with the terminal event; a retry starts the job again, so watch on from here.
    if (action === "retry" && this.watch?.state === "ended") this.openWatch();
  }
}

/** The `<dt>`/`<dd>` pairs of every field of a job. */
function fieldNodes(job) {
  const { element } = format;
  const nodes = [];
  const add = (name, field, ...value) => {
    nodes.push(element("dt", {}, name), element("dd", { dataset: { field } }, ...value));
  };
  const endpoint = format.streamEndpoint(job);
  add("Job ID", "job_id", element("code", {}, job.job_id));
  add("Tenant", "tenant", job.tenant);
  add("Status", "status", format.statusName(job.status));
  add("Type", "type", job.type || "—");
  add("Labels", "labels", format.labelText(job.labels) || "—");
  add("Priority", "priority", String(job.priority));
  add("Stream", "stream", endpoint ? streamWithCopy(endpoint) : "—");
  add("View type", "view_type", String(job.view_type));
  add("Frequencies", "frequencies_list", job.frequencies_list.length ? job.frequencies_list.join(", ") : "—");
  add("Lines dt", "lines_dt", String(job.lines_dt));
  const channels = Object.entries(job.channel_to_stream_index);
  add("Channel map", "channel_to_stream_index", channels.length === 0 ? "—" : element("table", {},
    element("thead", {}, element("tr", {}, element("th", { scope: "col" }, "Channel"), element("th", { scope: "col" }, "Stream index"))),
    element("tbody", {}, channels.map(([channel, index]) => element("tr", {}, element("td", {}, channel), element("td", {}, String(index)))))));
  add("Stream amount", "stream_amount", String(job.stream_amount));
  add("Frequencies amount", "frequencies_amount", String(job.frequencies_amount));
  add("Channel amount", "channel_amount", String(job.channel_amount));
  add("Metadata", "metadata", job.metadata
    ? `dx ${job.metadata.dx}, prr ${job.metadata.prr}, fiber from ${job.metadata.fiber_start_meters} m for ${job.metadata.fiber_length_meters} m, software ${job.metadata.sw_version || "—"}`
    : "—");
  add("Progress", "progress", format.percent(job.progress));
  add("Current task", "current_task", job.current_task || "—");
  add("ETA", "eta_seconds", job.eta_seconds === null ? "—" : format.duration(job.eta_seconds));
  add("Attempt", "attempt", String(job.attempt));
  add("Revision", "revision", String(job.revision));
  add("Created", "created_at", format.dateTime(job.created_at));
  add("Updated", "updated_at", format.dateTime(job.updated_at));
  add("Completed", "completed_at", format.dateTime(job.completed_at));
  add("Expires", "expires_at", format.dateTime(job.expires_at));
  add("Lease expires", "lease_expires_at", format.dateTime(job.lease_expires_at));
  if (job.cancel_reason) add("Cancel reason", "cancel_reason", job.cancel_reason);
  if (job.result) {
    const data = job.result.data ?? job.result.data_base64 ?? "";
    add("Result", "result", element("div", {}, element("span", { class: "muted" }, job.result.content_type || "no content type"),
      element("pre", {}, typeof data === "string" ? data : JSON.stringify(data, null, 2))));
  }
  if (job.error) {
    add("Error", "error", element("div", {}, element("strong", {}, job.error.message),
      element("div", { class: "muted" }, [job.error.failed_task && `task ${job.error.failed_task}`,
        job.error.reason && `reason ${job.error.reason}`, `retries ${job.error.retry_count}`].filter(Boolean).join(" · "))));
  }
  if (job.previous_attempts.length > 0) {
    add("Previous attempts", "previous_attempts", element("table", {},
      element("thead", {}, element("tr", {}, ["Attempt", "Status", "Ended", "Why"].map((name) => element("th", { scope: "col" }, name)))),
      element("tbody", {}, job.previous_attempts.map((attempt) => element("tr", {},
        element("td", {}, String(attempt.attempt)), element("td", {}, format.statusName(attempt.status)),
        element("td", {}, format.dateTime(attempt.completed_at)),
        element("td", {}, attempt.error?.message || attempt.cancel_reason || "—"))))));
  }
  add("Log lines", "log_line_count", format.count(job.log_line_count));
  return nodes;
}

function streamWithCopy(endpoint) {
  const code = format.element("code", {}, endpoint);
  const button = format.element("button", { type: "button", class: "copy", "aria-label": `Copy stream endpoint ${endpoint}` }, "Copy");
  button.addEventListener("click", async () => {
    button.textContent = (await format.copyText(endpoint, code)) ? "Copied" : "Selected";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  return format.element("span", { class: "stream" }, code, button);
}
