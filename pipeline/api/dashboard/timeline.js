// The stage timeline of a job page: every task in plan order with its times and a bar on one
// time axis, so the fan-out and the slow task are visible at a glance.
import { between, el, headedTable, percent, seconds, stateSpan, when } from '/assets/dom.js';

const HEAD = ['Stage', 'Task', 'State', 'Progress', 'Started', 'Ended', 'Duration', 'Attempts', ''];

export function timelineTable() {
  const body = el('tbody');
  const table = headedTable({ id: 'tasks', class: 'timeline' }, HEAD, body);
  return { table, update: (job) => body.replaceChildren(...rows(job)) };
}

function rows(job) {
  const starts = job.tasks.filter((t) => t.startedAt).map((t) => Date.parse(t.startedAt));
  const from = starts.length ? Math.min(...starts) : Date.now();
  const ends = job.tasks.map((t) => (t.endedAt ? Date.parse(t.endedAt) : Date.now()));
  const span = Math.max(1, Math.max(from + 1, ...ends) - from);
  let stage = 0;
  return job.tasks.map((t) => {
    const first = t.stage !== stage;
    stage = t.stage;
    const duration = t.startedAt ? seconds(between(t.startedAt, t.endedAt)) : '';
    return el(
      'tr',
      {
        'data-task-id': t.id,
        'data-stage': t.stage,
        class: first ? 'stage-start' : undefined,
        title: t.error ? `${t.error.code}: ${t.error.message}` : undefined,
      },
      el('td', {}, first ? String(t.stage) : ''),
      el('td', { class: 'key' }, t.id === t.kind ? t.id : `${t.kind} ${t.id}`),
      el('td', {}, stateSpan(t.state)),
      el('td', {}, el('progress', { max: 1, value: t.progress }), ' ', percent(t.progress)),
      el('td', {}, when(t.startedAt)),
      el('td', {}, when(t.endedAt)),
      el('td', { class: 'duration' }, duration),
      el('td', {}, String(t.attempts)),
      el('td', { class: 'gantt' }, bar(t, from, span)),
    );
  });
}

/** The task's span on the job's time axis, placed through CSSOM (the CSP forbids inline styles). */
function bar(task, from, span) {
  const node = el('span', { class: `bar state-${task.state}` });
  if (!task.startedAt) return node;
  const start = Date.parse(task.startedAt) - from;
  const end = (task.endedAt ? Date.parse(task.endedAt) : Date.now()) - from;
  node.style.left = `${(100 * start) / span}%`;
  node.style.width = `${Math.max(0.5, (100 * (end - start)) / span)}%`;
  return node;
}
