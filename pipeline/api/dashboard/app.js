// The mediaflow dashboard: a jobs list and a job page, live over SSE. No build step: plain ES
// modules, with hls.js and eventsource-parser served by the API from node_modules.
//
// Auth: when the server needs an API key, the page asks for it once and keeps it in localStorage;
// every request (fetch, SSE over fetch, hls.js's XHRs, images fetched as blobs) sends it as a
// bearer header, so the key never appears in a URL.
import Hls from '/assets/vendor/hls.mjs';
import { readEvents } from '/assets/sse.js';

const KEY_STORAGE = 'mediaflow.apiKey';
const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const view = document.getElementById('view');
const notice = document.getElementById('notice');
const teardown = [];

const apiKey = () => localStorage.getItem(KEY_STORAGE) ?? '';
const authHeaders = () => (apiKey() ? { authorization: `Bearer ${apiKey()}` } : {});

/** fetch against the API with the key; throws with the server's error message. */
async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { ...authHeaders(), ...(init.headers ?? {}) },
  });
  if (!response.ok) throw await failure(response);
  return response;
}

async function failure(response) {
  if (response.status === 401)
    return new Error(
      apiKey()
        ? 'The API key was refused: enter a valid one above.'
        : 'This server needs an API key: enter it above.',
    );
  const body = await response.json().catch(() => null);
  return new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
}

function say(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

/**
 * Builds an element; strings become text (never HTML), so keys and messages cannot inject markup.
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false)
      node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

const percent = (fraction) => `${Math.round(fraction * 100)}%`;
const when = (iso) => new Date(iso).toLocaleTimeString();
const bytes = (n) =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1024 ** 2).toFixed(1)} MiB`;

function progressCell(fraction) {
  return el(
    'td',
    {},
    el('progress', { max: 1, value: fraction }),
    ' ',
    el('span', { class: 'pct' }, percent(fraction)),
  );
}

function setProgress(cell, fraction) {
  cell.querySelector('progress').value = fraction;
  cell.querySelector('.pct').textContent = percent(fraction);
}

function stateSpan(state) {
  return el('span', { class: `state state-${state}` }, state);
}

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

// ---- one job ---------------------------------------------------------------------------------

function renderJob(id) {
  const title = el('h2', { class: 'key' }, id);
  const meta = el('p', {});
  const overall = el('progress', { id: 'job-progress', max: 1, value: 0 });
  const overallText = el('span', {});
  const actions = el('p', {});
  const error = el('p', { class: 'error', hidden: true });
  const tasks = el('tbody');
  const outputs = el('section', { id: 'outputs' });
  view.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← all jobs')),
    title,
    meta,
    el('p', {}, overall, ' ', overallText),
    actions,
    error,
    el('h3', {}, 'Tasks'),
    el(
      'table',
      { id: 'tasks' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['Task', 'Kind', 'State', 'Progress', 'Attempts'].map((h) => el('th', {}, h)),
        ),
      ),
      tasks,
    ),
    outputs,
  );
  let shownOutputsFor = null;

  const act = (label, method, path) =>
    el(
      'button',
      {
        type: 'button',
        onclick: () =>
          api(path, { method })
            .then((r) => r.json())
            .then(update)
            .catch((e) => say(e.message)),
      },
      label,
    );

  const update = (job) => {
    title.textContent = `${job.source.bucket}/${job.source.key}`;
    meta.replaceChildren(`preset ${job.preset} · job ${job.id} · `, stateSpan(job.state));
    meta.dataset.state = job.state;
    overall.value = job.progress;
    overallText.textContent = percent(job.progress);
    actions.replaceChildren(
      ...(['queued', 'running'].includes(job.state)
        ? [act('Cancel', 'DELETE', `/v1/jobs/${job.id}`)]
        : []),
      ...(['failed', 'cancelled'].includes(job.state)
        ? [act('Retry', 'POST', `/v1/jobs/${job.id}/retry`)]
        : []),
    );
    error.hidden = !job.error;
    const stderrTail = job.error?.stderrTail ? `\n${job.error.stderrTail}` : '';
    error.textContent = job.error ? `${job.error.code}: ${job.error.message}${stderrTail}` : '';
    tasks.replaceChildren(
      ...job.tasks.map((t) =>
        el(
          'tr',
          { 'data-task-id': t.id },
          el('td', {}, t.id),
          el('td', {}, t.kind),
          el('td', {}, stateSpan(t.state)),
          progressCell(t.progress),
          el('td', {}, String(t.attempts)),
        ),
      ),
    );
    if (job.state === 'succeeded' && shownOutputsFor !== job.updatedAt) {
      shownOutputsFor = job.updatedAt;
      renderOutputs(job, outputs).catch((e) => say(e.message));
    } else if (job.state !== 'succeeded') outputs.replaceChildren();
  };

  const stream = readEvents(`/v1/jobs/${encodeURIComponent(id)}/events`, {
    headers: authHeaders(),
    onEvent: (name, job) => name === 'job' && update(job),
    onError: (r) => failure(r).then((e) => say(e.message)),
  });
  teardown.push(() => stream.stop());
}

async function renderOutputs(job, section) {
  const playlist =
    job.outputs.find((o) => o.role === 'hls-master') ??
    job.outputs.find((o) => o.key.endsWith('master.m3u8')) ??
    job.outputs.find((o) => o.key.endsWith('.m3u8'));
  const images = job.outputs.filter((o) => o.contentType.startsWith('image/')).slice(0, 24);
  const manifest = el('pre', { id: 'manifest' }, 'loading…');
  const parts = [el('h3', {}, 'Outputs')];
  if (playlist) parts.push(player(playlist.url));
  if (images.length)
    parts.push(
      el(
        'div',
        { class: 'outputs' },
        images.map((o) => imageFigure(o)),
      ),
    );
  parts.push(
    el(
      'table',
      {},
      el(
        'tbody',
        {},
        job.outputs.map((o) =>
          el(
            'tr',
            {},
            el('td', { class: 'key' }, o.key.slice(job.outputPrefix.length)),
            el('td', {}, o.role),
            el('td', {}, bytes(o.bytes)),
            el('td', {}, o.width ? `${o.width}×${o.height}` : ''),
          ),
        ),
      ),
    ),
    el('h3', {}, 'Manifest'),
    manifest,
  );
  section.replaceChildren(...parts);
  if (job.manifestUrl)
    manifest.textContent = JSON.stringify(await (await api(job.manifestUrl)).json(), null, 2);
}

function player(url) {
  const video = el('video', { id: 'player', controls: true, muted: true, playsinline: true });
  video.muted = true;
  if (Hls.isSupported()) {
    // xhrSetup adds the key to every playlist and segment request hls.js makes.
    const hls = new Hls({
      xhrSetup: (xhr) => apiKey() && xhr.setRequestHeader('authorization', `Bearer ${apiKey()}`),
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    hls.on(
      Hls.Events.ERROR,
      (_event, data) => data.fatal && say(`Playback failed: ${data.details}`),
    );
    teardown.push(() => hls.destroy());
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    // Native HLS (Safari) cannot send headers: works on servers without keys.
    video.src = url;
  } else {
    return el('p', {}, 'This browser cannot play HLS.');
  }
  return video;
}

function imageFigure(output) {
  const img = el('img', { alt: output.key });
  // <img src> cannot send the key: fetch the bytes and show them from a blob URL.
  api(output.url)
    .then((r) => r.blob())
    .then((blob) => {
      img.src = URL.createObjectURL(blob);
      teardown.push(() => URL.revokeObjectURL(img.src));
    })
    .catch((e) => say(e.message));
  return el(
    'figure',
    {},
    img,
    el(
      'figcaption',
      {},
      `${output.width ?? '?'}×${output.height ?? '?'} ${output.format ?? output.contentType}`,
    ),
  );
}

// ---- routing and login -----------------------------------------------------------------------

function route() {
  for (const stop of teardown.splice(0)) stop();
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const match = /^\/jobs\/([^/]+)$/.exec(path ?? '');
  if (match) renderJob(decodeURIComponent(match[1]));
  else renderJobs(new URLSearchParams(query ?? '').get('state') ?? '');
}

document.getElementById('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('api-key');
  localStorage.setItem(KEY_STORAGE, input.value.trim());
  input.value = '';
  say('');
  route();
});
document.getElementById('forget').addEventListener('click', () => {
  localStorage.removeItem(KEY_STORAGE);
  route();
});
window.addEventListener('hashchange', route);
route();
