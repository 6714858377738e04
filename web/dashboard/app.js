// The dashboard's entry point: the API key, the connection indicator, and
// which view the URL names (`/` the jobs, `/?job=ID` one job). Everything a
// view shows comes from jobwired's HTTP API through clients/js/jobwire.js.
import { JobWire } from "./jobwire.js";
import { session } from "./session.js";
import { JobsView } from "./jobs-view.js";
import { JobView } from "./job-view.js";

const connection = document.getElementById("connection");
const pageError = document.getElementById("page-error");
const keyDialog = document.getElementById("key-dialog");
const client = new JobWire({ apiKey: session.apiKey() });

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Up to date",
  failed: "Disconnected",
  closed: "Disconnected",
};

/** The connection indicator follows the active view's stream. */
function showConnection(state, detail) {
  // A view's watch closes when another view starts; the new watch speaks for the page.
  if (state === "closed") return;
  connection.dataset.state = state;
  let text = CONNECTION_TEXT[state] ?? state;
  if (state === "reconnecting" && detail?.message) text = `Reconnecting… (${detail.reason === "NETWORK" ? "server unreachable" : detail.message})`;
  if (state === "failed" && detail?.message) text = `Disconnected: ${detail.message}`;
  connection.textContent = text;
}

function showPageError(message) {
  pageError.textContent = message;
  pageError.hidden = !message;
}

const context = {
  client,
  showConnection,
  showPageError,
  /** A call refused for want of a valid key: ask for one, then start the view again. */
  unauthenticated(error) {
    askForKey(error.message);
  },
  navigate(url, state = null) {
    history.pushState(state, "", url);
    route();
  },
};

const views = {
  jobs: new JobsView(context),
  job: new JobView(context),
};
let current = null;

function route() {
  const params = new URLSearchParams(location.search);
  const jobId = params.get("job");
  const next = jobId ? views.job : views.jobs;
  if (current && current !== next) current.stop();
  current = next;
  showPageError("");
  for (const view of Object.values(views)) view.section.hidden = view !== next;
  showConnection("connecting");
  next.start(params);
}

async function askForKey(message) {
  if (current) current.stop();
  const error = document.getElementById("key-error");
  error.textContent = message && session.apiKey() ? message : "";
  error.hidden = !error.textContent;
  if (!keyDialog.open) keyDialog.showModal();
}

document.getElementById("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = keyDialog.querySelector("input[name=key]");
  const key = input.value.trim();
  const error = document.getElementById("key-error");
  client.apiKey = key;
  client.streamToken = null;
  try {
    await signIn();
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    return;
  }
  session.setAPIKey(key);
  input.value = "";
  keyDialog.close();
  route();
});

// The key dialog cannot be dismissed without a key: the page has nothing to show without one.
keyDialog.addEventListener("cancel", (event) => event.preventDefault());

document.getElementById("sign-out").addEventListener("click", () => {
  session.setAPIKey("");
  client.apiKey = "";
  client.streamToken = null;
  sessionStorage.clear();
  location.assign("/");
});

/** Mints a stream token: it checks the key (or that the server needs none) and names the tenant. */
async function signIn() {
  await client.eventStreamToken({ fresh: true });
  const tenant = document.getElementById("tenant");
  tenant.textContent = `Tenant: ${client.streamToken.tenant}`;
  tenant.hidden = false;
  document.getElementById("sign-out").hidden = !client.apiKey;
}

// Same-origin links navigate inside the page, keeping the streams' state.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  if (link.hasAttribute("data-back") && history.state?.fromList) history.back();
  else context.navigate(link.getAttribute("href"), { fromList: current === views.jobs });
});
window.addEventListener("popstate", route);
window.addEventListener("pagehide", () => current?.save());

async function boot() {
  for (;;) {
    try {
      await signIn();
      route();
      return;
    } catch (error) {
      if (error.httpStatus === 401 || error.httpStatus === 403) {
        askForKey(error.message);
        return;
      }
      // The server is down or restarting: say so and try again.
      showConnection("reconnecting", error);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

boot();
