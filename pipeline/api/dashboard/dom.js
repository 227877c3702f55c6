// Shared helpers of the dashboard's pages: the API with the key, messages, and element building.
const KEY_STORAGE = 'mediaflow.apiKey';
const notice = document.getElementById('notice');

export const apiKey = () => localStorage.getItem(KEY_STORAGE) ?? '';
export const setApiKey = (key) =>
  key ? localStorage.setItem(KEY_STORAGE, key) : localStorage.removeItem(KEY_STORAGE);
export const authHeaders = () => (apiKey() ? { authorization: `Bearer ${apiKey()}` } : {});

/** fetch against the API with the key; throws with the server's error message. */
export async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { ...authHeaders(), ...(init.headers ?? {}) },
  });
  if (!response.ok) throw await failure(response);
  return response;
}

/** A JSON request (POST/DELETE with an optional body) answered with JSON. */
export async function apiJson(path, method = 'GET', body) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  return (await api(path, init)).json();
}

export async function failure(response) {
  if (response.status === 401)
    return new Error(
      apiKey()
        ? 'The API key was refused: enter a valid one above.'
        : 'This server needs an API key: enter it above.',
    );
  const body = await response.json().catch(() => null);
  return new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
}

export function say(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

/**
 * Builds an element; strings become text (never HTML), so keys and messages cannot inject markup.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false)
      node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** A table with a row of headings over `body` (a <tbody> the caller fills). */
export function headedTable(attrs, headings, body) {
  const head = el('tr', {}, ...headings.map((h) => el('th', {}, h)));
  return el('table', attrs, el('thead', {}, head), body);
}

export const percent = (fraction) => `${Math.round(fraction * 100)}%`;
export const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
export const bytes = (n) =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1024 ** 2).toFixed(1)} MiB`;

/** "4.2 s", "42 s", "3 min 5 s", "1 h 2 min" (as the CLI prints them). */
export function seconds(value) {
  const s = Math.round(value);
  if (value < 10) return `${Math.max(0, value).toFixed(1)} s`;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Seconds between two ISO times, the second defaulting to now. */
export const between = (from, to) => ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000;

export function progressCell(fraction) {
  return el(
    'td',
    {},
    el('progress', { max: 1, value: fraction }),
    ' ',
    el('span', { class: 'pct' }, percent(fraction)),
  );
}

export function setProgress(cell, fraction) {
  cell.querySelector('progress').value = fraction;
  cell.querySelector('.pct').textContent = percent(fraction);
}

export function stateSpan(state) {
  return el('span', { class: `state state-${state}` }, state);
}

/** Cleanups of the page on screen, run when the route changes. */
export const teardown = [];
