// What the dashboard keeps in sessionStorage: the API key (never
// localStorage, never the URL) and the resume points of its streams, so a
// reload or a reopened tab picks up where it was with nothing lost or
// repeated. Each entry is written whole (position and state together), so a
// reload between two saves resumes from the older, consistent point and the
// server sends the rest again.

const KEY = "jobwire.apiKey";
const JOBS = "jobwire.jobs";
const JOB_PREFIX = "jobwire.job.";
// A list of this many jobs is not saved (a few MB of JSON on every save); a reload then starts with a fresh snapshot.
const MAX_SAVED_JOBS = 2000;
// Jobs whose view state is kept; the oldest are dropped beyond it.
const MAX_SAVED_JOB_VIEWS = 20;

function read(name) {
  try {
    const text = sessionStorage.getItem(name);
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

function write(name, value) {
  try {
    sessionStorage.setItem(name, JSON.stringify(value));
    return true;
  } catch {
    // Over the quota, or storage disabled: the page still works; a reload starts over.
    sessionStorage.removeItem(name);
    return false;
  }
}

export const session = {
  apiKey() {
    return sessionStorage.getItem(KEY) ?? "";
  },

  setAPIKey(key) {
    if (key) sessionStorage.setItem(KEY, key);
    else sessionStorage.removeItem(KEY);
  },

  /** The list-watch's cursor and jobs, if they were saved for the same filters. */
  jobs(filtersKey) {
    const saved = read(JOBS);
    return saved && saved.filtersKey === filtersKey && typeof saved.cursor === "string" && Array.isArray(saved.jobs)
      ? saved : null;
  },

  saveJobs(filtersKey, cursor, jobs) {
    if (!cursor || jobs.length > MAX_SAVED_JOBS) {
      sessionStorage.removeItem(JOBS);
      return;
    }
    write(JOBS, { filtersKey, cursor, jobs });
  },

  /** One job view's state: `{revision, job, log, timeline}`. */
  job(jobId) {
    const saved = read(JOB_PREFIX + jobId);
    return saved && Number.isInteger(saved.revision) && saved.job ? saved : null;
  },

  saveJob(jobId, state) {
    write(JOB_PREFIX + jobId, { ...state, savedAt: Date.now() });
    const views = [];
    for (let index = 0; index < sessionStorage.length; index += 1) {
      const name = sessionStorage.key(index);
      if (name?.startsWith(JOB_PREFIX)) views.push([name, read(name)?.savedAt ?? 0]);
    }
    views.sort((a, b) => b[1] - a[1]);
    for (const [name] of views.slice(MAX_SAVED_JOB_VIEWS)) sessionStorage.removeItem(name);
  },
};
