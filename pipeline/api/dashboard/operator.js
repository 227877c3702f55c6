// The operator strip above the jobs list: jobs per state, queue depth, running tasks, live
// workers, how tasks run, and the realtime factor, from GET /v1/overview.
import { apiJson, el, say } from '/assets/dom.js';

const REFRESH_MS = 3000;

export function operatorStrip() {
  const strip = el('div', { id: 'overview', class: 'overview' });
  const cell = (label, value, state, href = state ? `#/?state=${state}` : undefined) =>
    el(
      href ? 'a' : 'div',
      {
        class: `metric${state ? ` state-${state}` : ''}`,
        'data-metric': label,
        href,
      },
      el('span', { class: 'value' }, String(value)),
      el('span', { class: 'label' }, label),
    );
  const refresh = () =>
    apiJson('/v1/overview')
      .then((o) =>
        strip.replaceChildren(
          ...Object.entries(o.jobs).map(([state, n]) => cell(state, n, state)),
          cell('queued tasks', o.queueDepth),
          cell('running tasks', o.runningTasks),
          cell('live workers', o.liveWorkers ?? '–', undefined, '#/workers'),
          cell(
            o.runner === 'bullmq' ? 'per worker' : 'in-process slots',
            o.runner === 'bullmq' ? `${o.concurrency} tasks` : o.concurrency,
          ),
          cell('realtime', o.realtimeFactor === null ? '–' : `${o.realtimeFactor}×`),
        ),
      )
      .catch((e) => say(e.message));
  refresh();
  const timer = setInterval(() => !document.hidden && refresh(), REFRESH_MS);
  return { strip, refresh, stop: () => clearInterval(timer) };
}

/**
 * Retries every failed job whose error is not permanent (as `mediaflow retry --failed`), reading
 * the whole list first: a retried job leaves it.
 */
export async function retryAllFailed() {
  const failed = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ state: 'failed', limit: '200' });
    if (cursor) query.set('cursor', cursor);
    const page = await apiJson(`/v1/jobs?${query}`);
    failed.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor);
  const eligible = failed.filter((job) => job.error?.retryable !== false);
  let retried = 0;
  for (const job of eligible) {
    try {
      await apiJson(`/v1/jobs/${encodeURIComponent(job.id)}/retry`, 'POST');
      retried += 1;
    } catch {
      // Retried elsewhere meanwhile, or its source is gone: counted as not retried.
    }
  }
  return { retried, permanent: failed.length - eligible.length, failed: failed.length };
}
