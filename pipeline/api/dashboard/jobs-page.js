// The jobs list: the operator strip, a state filter and a search over key and preset, live rows
// with the error code, created time and duration, and "Retry all failed".
import {
  api,
  authHeaders,
  between,
  el,
  failure,
  headedTable,
  progressCell,
  say,
  seconds,
  setProgress,
  stateSpan,
  teardown,
  when,
} from '/assets/dom.js';
import { operatorStrip, retryAllFailed } from '/assets/operator.js';
import { readEvents } from '/assets/sse.js';
import { uploadButton } from '/assets/upload.js';
import { submitForm } from '/assets/submit-form.js';

const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const HEAD = ['Source', 'Preset', 'State', 'Error', 'Progress', 'Created', 'Duration', 'Updated'];
const FINAL = ['succeeded', 'failed', 'cancelled'];

/** Waits this long after the last keystroke before searching, so typing is one request. */
const SEARCH_DELAY_MS = 250;

/** As the job stores match `q`: a substring of the key or preset, ASCII letters in any case. */
const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
const matchesSearch = (job, q) =>
  asciiLower(job.source.key).includes(asciiLower(q)) ||
  asciiLower(job.preset).includes(asciiLower(q));

const duration = (job) =>
  seconds(between(job.createdAt, FINAL.includes(job.state) ? job.updatedAt : undefined));

export function renderJobs(view, filter) {
  const rows = new Map();
  let cursor = null;
  const body = el('tbody');
  const more = el('button', { type: 'button', hidden: true }, 'Load more');
  const empty = emptyState();
  const overview = operatorStrip();
  teardown.push(overview.stop);
  const select = el(
    'select',
    {
      id: 'state-filter',
      onchange: () => (location.hash = select.value ? `#/?state=${select.value}` : '#/'),
    },
    el('option', { value: '' }, 'all states'),
    STATES.map((s) => el('option', { value: s, selected: s === filter }, s)),
  );
  // Searches every job the key may see (GET /v1/jobs?q=), not only the rows loaded so far.
  const search = el('input', { id: 'job-search', type: 'search', placeholder: 'key or preset' });
  const noMatch = el('p', { id: 'no-match', class: 'muted', hidden: true }, 'No job matches.');
  let q = '';
  let typing;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      if (search.value.trim() === q) return;
      q = search.value.trim();
      rows.clear();
      body.replaceChildren();
      cursor = null;
      load().catch((e) => say(e.message));
    }, SEARCH_DELAY_MS);
  });
  teardown.push(() => clearTimeout(typing));
  const retryFailed = el('button', { type: 'button', id: 'retry-failed' }, 'Retry all failed');
  retryFailed.addEventListener('click', () => {
    if (!confirm('Retry every failed job whose error is not permanent?')) return;
    retryAllFailed()
      .then((r) =>
        say(
          `Retried ${r.retried} of ${r.failed} failed jobs` +
            (r.permanent ? ` (${r.permanent} with permanent errors left alone)` : ''),
        ),
      )
      .catch((e) => say(e.message));
  });
  view.replaceChildren(
    overview.strip,
    el(
      'div',
      { class: 'toolbar' },
      el('h2', {}, 'Jobs'),
      el('label', {}, 'State ', select),
      el('label', {}, 'Search ', search),
      retryFailed,
      uploadButton(),
    ),
    submitForm(),
    headedTable({ id: 'jobs' }, HEAD, body),
    empty,
    noMatch,
    more,
  );

  const upsert = (job, atTop) => {
    const existing = rows.get(job.id);
    if (existing) {
      existing.state.replaceChildren(stateSpan(job.state));
      existing.error.textContent = job.error?.code ?? '';
      setProgress(existing.progress, job.progress);
      existing.duration.textContent = duration(job);
      existing.updated.textContent = when(job.updatedAt);
      existing.row.dataset.state = job.state;
      return;
    }
    if (filter && job.state !== filter) return;
    // A live event's new job joins a search's rows only when it matches, as the API would say.
    if (q && !matchesSearch(job, q)) return;
    const cells = {
      state: el('td', {}, stateSpan(job.state)),
      error: el('td', { class: 'error-code' }, job.error?.code ?? ''),
      progress: progressCell(job.progress),
      duration: el('td', {}, duration(job)),
      updated: el('td', {}, when(job.updatedAt)),
    };
    const source = `${job.source.bucket}/${job.source.key}`;
    const row = el(
      'tr',
      { 'data-job-id': job.id, 'data-state': job.state },
      el('td', { class: 'key' }, el('a', { href: `#/jobs/${job.id}` }, source)),
      el('td', {}, job.preset),
      cells.state,
      cells.error,
      cells.progress,
      el('td', { title: job.createdAt }, new Date(job.createdAt).toLocaleString()),
      cells.duration,
      cells.updated,
    );
    rows.set(job.id, { row, ...cells });
    empty.hidden = true;
    noMatch.hidden = true;
    if (atTop) body.prepend(row);
    else body.append(row);
  };

  // Subscribe first, then list: a change between the two is not lost.
  const stream = readEvents('/v1/jobs/events', {
    headers: authHeaders(),
    onEvent: (name, job) => {
      if (name !== 'job') return;
      upsert(job, true);
      if (FINAL.includes(job.state) || job.state === 'queued') overview.refresh();
    },
    onError: (r) => failure(r).then((e) => say(e.message)),
  });
  teardown.push(() => stream.stop());

  const load = async () => {
    const asked = q;
    const query = new URLSearchParams({
      limit: '50',
      ...(filter ? { state: filter } : {}),
      ...(q ? { q } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const page = await (await api(`/v1/jobs?${query}`)).json();
    // The search changed while this page was on its way: its rows are no longer wanted.
    if (asked !== q) return;
    for (const job of page.jobs) upsert(job, false);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    empty.hidden = rows.size > 0 || Boolean(filter) || Boolean(q);
    noMatch.hidden = rows.size > 0 || !q || Boolean(cursor);
    say('');
  };
  more.addEventListener('click', () => load().catch((e) => say(e.message)));
  load().catch((e) => say(e.message));
}

/** What a first run shows before any job: the three ways a file gets in. */
function emptyState() {
  const code = (text) => el('code', {}, text);
  return el(
    'section',
    { id: 'empty', class: 'empty', hidden: true },
    el('h3', {}, 'No jobs yet. Three ways in:'),
    el(
      'ol',
      {},
      el(
        'li',
        {},
        'Upload a file: the Upload button above (or drop it on this page), or any S3 client ',
        'to the input bucket (',
        code('mediaflow demo'),
        ' does that with samples/).',
      ),
      el(
        'li',
        {},
        'Submit objects already in a bucket: ',
        code('npx mediaflow submit mediaflow-input/clip.mp4 --wait'),
        '.',
      ),
      el(
        'li',
        {},
        'Point your bucket\u2019s event notifications (MinIO webhook, S3 events) at ',
        code('POST /v1/events/s3'),
        '; every upload then starts a job.',
      ),
    ),
  );
}
