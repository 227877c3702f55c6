// The Workers page: every live worker (its heartbeat is current) with its host, what it runs now
// and its versions, from GET /v1/workers (admins only). Refreshed every few seconds.
import { apiJson, between, el, headedTable, say, seconds, teardown, when } from '/assets/dom.js';

const REFRESH_MS = 3000;
const HEAD = ['Worker', 'Host', 'PID', 'State', 'Tasks', 'Running now', 'Versions', 'Up', 'Seen'];

export function renderWorkers(view) {
  const body = el('tbody');
  const summary = el('p', { id: 'workers-summary', class: 'muted' });
  view.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← all jobs')),
    el('h2', {}, 'Workers'),
    summary,
    headedTable({ id: 'workers' }, HEAD, body),
  );
  const refresh = async () => {
    let workers;
    try {
      ({ workers } = await apiJson('/v1/workers'));
    } catch (error) {
      body.replaceChildren();
      summary.textContent = '';
      return say(error.message);
    }
    say('');
    const running = workers.reduce((n, w) => n + w.tasks.length, 0);
    const slots = workers.reduce((n, w) => n + w.concurrency, 0);
    summary.textContent = `${workers.length} live, running ${running} of ${slots} task slots`;
    body.replaceChildren(...workers.map(row));
  };
  void refresh();
  const timer = setInterval(() => !document.hidden && refresh(), REFRESH_MS);
  teardown.push(() => clearInterval(timer));
}

function row(worker) {
  return el(
    'tr',
    { 'data-worker-id': worker.id, 'data-state': worker.state },
    el('td', { class: 'key' }, worker.id),
    el('td', {}, worker.host),
    el('td', { class: 'pid' }, String(worker.pid)),
    el('td', {}, el('span', { class: `state state-${worker.state}` }, worker.state)),
    el('td', { class: 'load' }, `${worker.tasks.length} / ${worker.concurrency}`),
    el(
      'td',
      { class: 'tasks' },
      worker.tasks.map((task) =>
        el(
          'div',
          { class: 'task', 'data-job-id': task.jobId, 'data-task-id': task.taskId },
          el('a', { href: `#/jobs/${encodeURIComponent(task.jobId)}` }, task.jobId),
          ` ${task.taskId} · ${seconds(between(task.startedAt))}`,
        ),
      ),
    ),
    el('td', {}, `mediaflow ${worker.version} · ffmpeg ${worker.ffmpegVersion}`),
    el('td', { title: worker.startedAt }, seconds(between(worker.startedAt))),
    el('td', { title: worker.seenAt }, when(worker.seenAt)),
  );
}
