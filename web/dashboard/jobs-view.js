// The jobs view: every job the filters match, live through the list-watch
// (`GET /v1/events`), sorted in the page, counts by status on top. Filters
// and sort live in the URL; the watch's cursor and jobs in sessionStorage.
import { STATUSES } from "./jobwire.js";
import { session } from "./session.js";
import * as format from "./format.js";

// Rows beyond this are not drawn (the summary says how many match): a page is for reading, the CSV export for all.
const MAX_ROWS = 1000;
// Milliseconds of row building per animation frame (at least MIN_ROWS_PER_FRAME rows), so the first render of a
// large list never holds the main thread for long whatever the machine's speed: the browser's layout of the new rows
// comes on top of it.
const BUILD_BUDGET_MS = 8;
const MIN_ROWS_PER_FRAME = 10;
const COUNTS_INTERVAL_MS = 2000;
const AGE_INTERVAL_MS = 15000;
const SAVE_INTERVAL_MS = 10000;
const TEXT_DEBOUNCE_MS = 300;

function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

const SORTS = {
  created: (a, b) => compareText(b.created_at, a.created_at) || compareText(a.job_id, b.job_id),
  oldest: (a, b) => compareText(a.created_at, b.created_at) || compareText(a.job_id, b.job_id),
  updated: (a, b) => compareText(b.updated_at, a.updated_at) || compareText(a.job_id, b.job_id),
  priority: (a, b) => b.priority - a.priority || SORTS.created(a, b),
  progress: (a, b) => b.progress - a.progress || SORTS.created(a, b),
};
// Sorts that an update cannot change: a job's creation time never moves.
const STABLE_SORTS = new Set(["created", "oldest"]);

/** The view's filters from the URL: `status`, `type`, `label` (repeated), `search`, `sort`. */
function parseFilters(params) {
  const statuses = (params.get("status") ?? "").split(",").filter((status) => STATUSES.includes(status));
  const sort = params.get("sort");
  return {
    status: STATUSES.filter((status) => statuses.includes(status)),
    type: params.get("type") ?? "",
    labels: params.getAll("label").filter((label) => label.includes("=")).sort(),
    search: params.get("search") ?? "",
    sort: sort in SORTS ? sort : "created",
  };
}

function filtersURL(filters) {
  const params = new URLSearchParams();
  if (filters.status.length > 0) params.set("status", filters.status.join(","));
  if (filters.type) params.set("type", filters.type);
  for (const label of filters.labels) params.append("label", label);
  if (filters.search) params.set("search", filters.search);
  if (filters.sort !== "created") params.set("sort", filters.sort);
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

/** What the server filters on: the list-watch is restarted only when this changes (not for a new sort). */
function watchKey(filters) {
  return JSON.stringify([filters.status, filters.type, filters.labels, filters.search]);
}

export class JobsView {
  constructor(context) {
    this.context = context;
    this.section = document.getElementById("jobs-view");
    this.form = document.getElementById("filters");
    this.tbody = document.querySelector("#jobs-table tbody");
    this.summary = document.getElementById("jobs-summary");
    this.counts = document.getElementById("status-counts");
    this.rows = new Map();
    this.dirty = new Set();
    this.needsOrder = false;
    this.frame = 0;
    this.watch = null;
    this.key = "";
    this.filters = parseFilters(new URLSearchParams());
    this.timers = [];
    this.countsTimer = 0;
    this.lastCounts = 0;
    this.unsaved = false;
    this.buildFilters();
    this.buildCounts();
    this.tbody.addEventListener("click", (event) => this.copyClicked(event));
  }

  buildFilters() {
    const fieldset = this.form.querySelector("fieldset.statuses");
    for (const status of STATUSES) {
      fieldset.append(format.element("label", {},
        format.element("input", { type: "checkbox", name: "status", value: status }), format.statusName(status)));
    }
    let debounce = 0;
    this.form.addEventListener("input", (event) => {
      clearTimeout(debounce);
      if (event.target.type === "text" || event.target.type === "search") {
        debounce = setTimeout(() => this.formChanged(), TEXT_DEBOUNCE_MS);
      } else {
        this.formChanged();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.formChanged();
    });
    this.form.addEventListener("reset", () => setTimeout(() => this.formChanged(), 0));
  }

  buildCounts() {
    this.countButtons = new Map();
    for (const status of ["all", ...STATUSES]) {
      const number = format.element("span", { class: "number" }, "–");
      const button = format.element("button", { type: "button", "aria-pressed": "false", dataset: { status } },
        format.element("span", {}, status === "all" ? "All" : format.statusName(status)), number);
      button.addEventListener("click", () => this.countClicked(status));
      this.countButtons.set(status, { button, number });
      this.counts.append(format.element("li", {}, button));
    }
  }

  formChanged() {
    const data = new FormData(this.form);
    const labels = String(data.get("label") ?? "").split(",").map((label) => label.trim()).filter((label) => label.includes("="));
    const filters = {
      status: STATUSES.filter((status) => data.getAll("status").includes(status)),
      type: String(data.get("type") ?? "").trim(),
      labels: labels.sort(),
      search: String(data.get("search") ?? "").trim(),
      sort: String(data.get("sort") ?? "created"),
    };
    const url = filtersURL(filters);
    if (url !== location.pathname + location.search) {
      history.replaceState(null, "", url);
      this.start(new URLSearchParams(location.search));
    }
  }

  countClicked(status) {
    const only = status === "all" ? [] : [status];
    const same = JSON.stringify(only) === JSON.stringify(this.filters.status);
    const filters = { ...this.filters, status: same ? [] : only };
    this.context.navigate(filtersURL(filters));
  }

  /** Shows the view for the URL's filters; the watch goes on if only the sort changed. */
  start(params) {
    this.filters = parseFilters(params);
    this.fillForm();
    const key = watchKey(this.filters);
    if (this.watch && key === this.key) {
      this.needsOrder = true;
      this.schedule();
      return;
    }
    this.stop();
    this.key = key;
    this.rows.clear();
    this.tbody.replaceChildren();
    const saved = session.jobs(key);
    this.summary.textContent = "Loading jobs…";
    this.watch = this.context.client.watchJobs(
      { status: this.filters.status, type: this.filters.type, labels: this.filters.labels, search: this.filters.search },
      {
        cursor: saved?.cursor,
        jobs: saved?.jobs,
        onChange: (_watch, event) => this.changed(event),
        onState: (state, detail) => this.context.showConnection(state, detail),
        onError: (error) => this.failed(error),
      });
    if (saved) {
      this.needsOrder = true;
      this.schedule();
    }
    this.refreshCounts();
    this.timers.push(setInterval(() => this.refreshAges(), AGE_INTERVAL_MS));
    this.timers.push(setInterval(() => this.saveIfChanged(), SAVE_INTERVAL_MS));
  }

  stop() {
    this.save();
    this.watch?.close();
    this.watch = null;
    this.key = "";
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.countsTimer);
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.dirty.clear();
  }

  /** Keeps the cursor and the jobs it describes, together, when the watch is in step. */
  save() {
    if (!this.watch || !this.watch.synced || this.watch.incoming) return;
    session.saveJobs(this.key, this.watch.cursor, [...this.watch.jobs.values()]);
    this.unsaved = false;
  }

  saveIfChanged() {
    if (this.unsaved) this.save();
  }

  fillForm() {
    for (const box of this.form.querySelectorAll("input[name=status]")) box.checked = this.filters.status.includes(box.value);
    const active = document.activeElement;
    for (const [name, value] of [["type", this.filters.type], ["label", this.filters.labels.join(", ")], ["search", this.filters.search]]) {
      const input = this.form.elements.namedItem(name);
      if (input !== active) input.value = value;
    }
    this.form.elements.namedItem("sort").value = this.filters.sort;
    for (const [status, { button }] of this.countButtons) {
      const pressed = status === "all" ? this.filters.status.length === 0
        : this.filters.status.length === 1 && this.filters.status[0] === status;
      button.setAttribute("aria-pressed", String(pressed));
    }
  }

  failed(error) {
    if (error.httpStatus === 401) this.context.unauthenticated(error);
    else this.context.showPageError(`The jobs could not be watched: ${error.message}`);
  }

  changed(event) {
    this.unsaved = true;
    switch (event.type) {
      case "synced":
        this.needsOrder = true;
        break;
      case "resync":
      case "snapshot":
        if (!this.watch.synced) this.summary.textContent = `Loading jobs… ${format.count(this.watch.incoming?.size ?? 0)}`;
        return;
      case "entered":
      case "left":
        this.dirty.add(event.job_id);
        this.needsOrder = true;
        break;
      default:
        this.dirty.add(event.job_id);
        if (!STABLE_SORTS.has(this.filters.sort)) this.needsOrder = true;
    }
    this.schedule();
    this.scheduleCounts();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    if (!this.watch) return;
    if (this.needsOrder) this.order();
    for (const id of this.dirty) {
      const row = this.rows.get(id);
      const job = this.watch.jobs.get(id);
      if (row && job) this.updateRow(row, job);
    }
    this.dirty.clear();
  }

  /** Puts the rows in the sort's order, building new ones for at most BUILD_BUDGET_MS per frame. */
  order() {
    const started = performance.now();
    this.needsOrder = false;
    const jobs = [...this.watch.jobs.values()].sort(SORTS[this.filters.sort]);
    const shown = jobs.slice(0, MAX_ROWS);
    const keep = new Set(shown.map((job) => job.job_id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    let built = 0;
    let cursor = this.tbody.firstElementChild;
    for (const job of shown) {
      let row = this.rows.get(job.job_id);
      if (!row) {
        if (built >= MIN_ROWS_PER_FRAME && performance.now() - started > BUILD_BUDGET_MS) {
          this.needsOrder = true;
          this.schedule();
          break;
        }
        row = this.buildRow(job);
        this.rows.set(job.job_id, row);
        built += 1;
      }
      this.updateRow(row, job);
      if (row.tr === cursor) cursor = cursor.nextElementSibling;
      else this.tbody.insertBefore(row.tr, cursor);
    }
    this.writeSummary(jobs.length);
  }

  writeSummary(total) {
    if (!this.watch.synced) return;
    const matching = `${format.count(total)} ${total === 1 ? "job" : "jobs"}`;
    this.summary.textContent = total > MAX_ROWS
      ? `${matching}; the first ${format.count(MAX_ROWS)} are shown, narrow the filters to see the others`
      : total === 0 ? "No jobs match." : matching;
  }

  buildRow(job) {
    const cell = (name, label, ...children) => format.element("td", { class: name, role: "cell", "data-label": label }, ...children);
    const badge = format.element("span", { class: "badge" });
    const link = format.element("a", { href: `/?job=${encodeURIComponent(job.job_id)}`, "data-nav": true });
    const bar = format.element("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" },
      format.element("span"));
    const value = format.element("span", { class: "value" });
    const endpoint = format.element("code");
    const copy = format.element("button", { type: "button", class: "copy" }, "Copy");
    const stream = format.element("span", { class: "stream" }, endpoint, copy);
    const row = {
      job: null, badge, link, bar, value, endpoint, copy, stream,
      task: cell("task", "Task"), eta: cell("eta", "ETA"), age: cell("age", "Age"), labels: cell("labels", "Labels"),
    };
    row.tr = format.element("tr", { role: "row", dataset: { jobId: job.job_id } },
      cell("status", "Status", badge), cell("type", "Type", link),
      cell("progress", "Progress", format.element("div", { class: "cell" }, bar, value)),
      row.task, row.eta, cell("stream-cell", "Stream", stream), row.age, row.labels);
    return row;
  }

  updateRow(row, job) {
    if (row.job === job) return;
    const previous = row.job;
    row.job = job;
    if (previous?.status !== job.status) {
      row.badge.dataset.status = job.status;
      row.badge.textContent = format.statusName(job.status);
      row.bar.dataset.status = job.status;
    }
    format.setText(row.link, job.type || job.job_id.slice(0, 8));
    if (previous?.progress !== job.progress) {
      row.bar.style.setProperty("--p", String(Math.max(0, Math.min(100, job.progress)) / 100));
      row.bar.setAttribute("aria-valuenow", String(job.progress));
      row.bar.setAttribute("aria-label", `Progress of ${job.type || job.job_id}`);
      format.setText(row.value, format.percent(job.progress));
    }
    format.setText(row.task, job.current_task);
    format.setText(row.eta, job.status === "running" ? format.duration(job.eta_seconds) : "");
    const endpoint = format.streamEndpoint(job);
    if (endpoint !== row.tr.dataset.endpoint) {
      row.tr.dataset.endpoint = endpoint;
      row.endpoint.textContent = endpoint;
      row.endpoint.title = endpoint;
      row.stream.hidden = !endpoint;
      row.copy.setAttribute("aria-label", `Copy stream endpoint ${endpoint}`);
    }
    format.setText(row.age, format.age(job.created_at));
    row.age.title = format.dateTime(job.created_at);
    format.setText(row.labels, format.labelText(job.labels));
  }

  refreshAges() {
    const now = Date.now();
    for (const row of this.rows.values()) format.setText(row.age, format.age(row.job.created_at, now));
  }

  async copyClicked(event) {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const tr = button.closest("tr");
    const copied = await format.copyText(tr.dataset.endpoint, tr.querySelector(".stream code"));
    button.textContent = copied ? "Copied" : "Selected";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  }

  scheduleCounts() {
    if (this.countsTimer) return;
    const wait = Math.max(0, this.lastCounts + COUNTS_INTERVAL_MS - Date.now());
    this.countsTimer = setTimeout(() => {
      this.countsTimer = 0;
      this.refreshCounts();
    }, wait);
  }

  /** Counts by status of the whole tenant (Stats), whatever the filters. */
  async refreshCounts() {
    this.lastCounts = Date.now();
    let stats;
    try {
      stats = await this.context.client.stats();
    } catch {
      return; // The stream's indicator already says when the server is away.
    }
    for (const [status, { number }] of this.countButtons) {
      const value = status === "all" ? stats.total_jobs : stats.jobs?.[status] ?? 0;
      format.setText(number, format.count(value));
    }
  }
}
