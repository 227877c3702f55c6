// The mediaflow dashboard: a jobs list and a job page, live over SSE. No build step: plain ES
// modules, with hls.js and eventsource-parser served by the API from node_modules.
//
// Auth: when the server needs an API key, the page asks for it once and keeps it in localStorage;
// every request (fetch, SSE over fetch, hls.js's XHRs, images fetched as blobs) sends it as a
// bearer header, so the key never appears in a URL.
import {
  api,
  authHeaders,
  el,
  failure,
  progressCell,
  say,
  setApiKey,
  setProgress,
  stateSpan,
  teardown,
  when,
} from '/assets/dom.js';
import { renderJob } from '/assets/job-page.js';
import { readEvents } from '/assets/sse.js';

const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const view = document.getElementById('view');

// ---- jobs list -------------------------------------------------------------------------------

function renderJobs(filter) {
  const rows = new Map();
  const body = el('tbody');
  const more = el('button', { type: 'button', hidden: true }, 'Load more');
  const select = el(
    'select',
    {
      id: 'state-filter',
      onchange: () => (location.hash = select.value ? `#/?state=${select.value}` : '#/'),
    },
    el('option', { value: '' }, 'all states'),
    STATES.map((s) => el('option', { value: s, selected: s === filter }, s)),
  );
  view.replaceChildren(
    el('div', { class: 'toolbar' }, el('h2', {}, 'Jobs'), el('label', {}, 'State ', select)),
    el(
      'table',
      { id: 'jobs' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['Source', 'Preset', 'State', 'Progress', 'Updated'].map((h) => el('th', {}, h)),
        ),
      ),
      body,
    ),
    more,
  );

  const upsert = (job, atTop) => {
    const existing = rows.get(job.id);
    if (existing) {
      existing.state.replaceChildren(stateSpan(job.state));
      setProgress(existing.progress, job.progress);
      existing.updated.textContent = when(job.updatedAt);
      existing.row.dataset.state = job.state;
      return;
    }
    if (filter && job.state !== filter) return;
    const cells = {
      state: el('td', {}, stateSpan(job.state)),
      progress: progressCell(job.progress),
      updated: el('td', {}, when(job.updatedAt)),
    };
    const row = el(
      'tr',
      { 'data-job-id': job.id, 'data-state': job.state },
      el(
        'td',
        { class: 'key' },
        el('a', { href: `#/jobs/${job.id}` }, `${job.source.bucket}/${job.source.key}`),
      ),
      el('td', {}, job.preset),
      cells.state,
      cells.progress,
      cells.updated,
    );
    rows.set(job.id, { row, ...cells });
    if (atTop) body.prepend(row);
    else body.append(row);
  };

  // Subscribe first, then list: a change between the two is not lost.
  const stream = readEvents('/v1/jobs/events', {
    headers: authHeaders(),
    onEvent: (name, job) => name === 'job' && upsert(job, true),
    onError: (r) => failure(r).then((e) => say(e.message)),
  });
  teardown.push(() => stream.stop());

  let cursor = null;
  const load = async () => {
    const query = new URLSearchParams({
      limit: '50',
      ...(filter ? { state: filter } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const page = await (await api(`/v1/jobs?${query}`)).json();
    for (const job of page.jobs) upsert(job, false);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    say('');
  };
  more.addEventListener('click', () => load().catch((e) => say(e.message)));
  load().catch((e) => say(e.message));
}

// ---- routing and login -----------------------------------------------------------------------

function route() {
  for (const stop of teardown.splice(0)) stop();
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const match = /^\/jobs\/([^/]+)$/.exec(path ?? '');
  if (match) renderJob(view, decodeURIComponent(match[1]));
  else renderJobs(new URLSearchParams(query ?? '').get('state') ?? '');
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
