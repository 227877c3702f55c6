// The mediaflow dashboard: a jobs list and a job page, live over SSE. No build step: plain ES
// modules, with hls.js and eventsource-parser served by the API from node_modules.
//
// Auth: when the server needs an API key, the page asks for it once and keeps it in localStorage;
// every request (fetch, SSE over fetch, hls.js's XHRs, images fetched as blobs) sends it as a
// bearer header, so the key never appears in a URL.
import { say, setApiKey, teardown } from '/assets/dom.js';
import { renderJob } from '/assets/job-page.js';
import { renderJobs } from '/assets/jobs-page.js';
import { renderWorkers } from '/assets/workers-page.js';

const view = document.getElementById('view');

// ---- routing and login -----------------------------------------------------------------------

function route() {
  for (const stop of teardown.splice(0)) stop();
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const match = /^\/jobs\/([^/]+)$/.exec(path ?? '');
  if (match) renderJob(view, decodeURIComponent(match[1]));
  else if (path === '/workers') renderWorkers(view);
  else renderJobs(view, new URLSearchParams(query ?? '').get('state') ?? '');
}

document.getElementById('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('api-key');
  setApiKey(input.value.trim());
  input.value = '';
  say('');
  route();
});
document.getElementById('forget').addEventListener('click', () => {
  setApiKey('');
  route();
});
window.addEventListener('hashchange', route);
route();
