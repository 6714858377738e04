// How the dashboard writes a job's values: one place, so the jobs table and
// the job view agree.

// The Intl formatters load locale data when made: made on first use, not while the page's modules load.
let formatters = null;
function intl() {
  formatters ??= {
    relative: new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "narrow" }),
    dateTime: new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" }),
    number: new Intl.NumberFormat(),
  };
  return formatters;
}

/** "3 min ago" for an ISO 8601 time, "" for null. */
export function age(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const magnitude = Math.abs(seconds);
  if (magnitude < 60) return intl().relative.format(seconds, "second");
  if (magnitude < 3600) return intl().relative.format(Math.round(seconds / 60), "minute");
  if (magnitude < 86400) return intl().relative.format(Math.round(seconds / 3600), "hour");
  return intl().relative.format(Math.round(seconds / 86400), "day");
}

/** A local date and time for an ISO 8601 time, "—" for null. */
export function dateTime(iso) {
  return iso ? intl().dateTime.format(new Date(iso)) : "—";
}

/** Remaining seconds as "1 h 05 min", "42 s"; "" when unknown. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "";
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")} min`;
}

export function percent(progress) {
  const value = Math.max(0, Math.min(100, Number(progress) || 0));
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}

export function count(value) {
  return intl().number.format(value);
}

/** `stream_url:stream_port`, or "" when the job serves no stream. */
export function streamEndpoint(job) {
  if (!job.stream_url) return job.stream_port ? `:${job.stream_port}` : "";
  return job.stream_port ? `${job.stream_url}:${job.stream_port}` : job.stream_url;
}

export function labelText(labels) {
  return Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`).join(", ");
}

/** A status as people read it: "cancelling" → "Cancelling". */
export function statusName(status) {
  return status ? status[0].toUpperCase() + status.slice(1) : "Unknown";
}

/**
 * An element with attributes and children: the dashboard builds its DOM with
 * this and textContent only, never innerHTML, so no job value can inject markup.
 */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Sets text only when it differs: most updates change one or two cells of a row. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Copies text; falls back to selecting it where the clipboard API is refused. */
export async function copyText(text, fallbackNode) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackNode) {
      const range = document.createRange();
      range.selectNodeContents(fallbackNode);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    return false;
  }
}
