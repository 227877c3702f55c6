// One job: live state, current stage and ETA, Cancel/Retry, the error with ffmpeg's output, the
// stage timeline, and (once it succeeded) the player and outputs.
import { apiJson, between, el, percent, say, seconds, stateSpan, teardown } from '/assets/dom.js';
import { followJob } from '/assets/follow.js';
import { playerFor, renderOutputs } from '/assets/outputs.js';
import { timelineTable } from '/assets/timeline.js';

const OPEN = ['queued', 'running'];

/** A failed job is worth retrying unless its error is permanent (corrupt input, bad preset). */
export const retryable = (job) =>
  job.state === 'cancelled' || (job.state === 'failed' && job.error?.retryable !== false);

export function renderJob(view, id) {
  const title = el('h2', { class: 'key' }, id);
  const meta = el('p', {});
  const playerSlot = el('div', { id: 'player-slot' });
  const overall = el('progress', { id: 'job-progress', max: 1, value: 0 });
  const overallText = el('span', {});
  const now = el('span', { id: 'job-stage', class: 'muted' });
  const times = el('p', { id: 'job-times', class: 'muted' });
  const actions = el('p', { class: 'actions' });
  const error = el('div', { id: 'job-error', hidden: true });
  const timeline = timelineTable();
  const outputs = el('section', { id: 'outputs' });
  view.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← all jobs')),
    title,
    meta,
    playerSlot,
    el('p', {}, overall, ' ', overallText, ' ', now),
    times,
    actions,
    error,
    el('h3', {}, 'Timeline'),
    timeline.table,
    outputs,
  );
  let shownOutputsFor = null;
  let follower;

  const act = (label, method, path, question) =>
    el(
      'button',
      {
        type: 'button',
        id: `job-${label.toLowerCase()}`,
        onclick: () => {
          if (question && !confirm(question)) return;
          apiJson(path, method)
            .then((job) => follower.refresh(job))
            .catch((e) => say(e.message));
        },
      },
      label,
    );

  // Re-processing: the object and preset submitted again with force; the job runs again in place.
  const runAgain = (job, path) =>
    el(
      'button',
      {
        type: 'button',
        id: 'job-run-again',
        onclick: () => {
          if (!confirm('Run this job again? Its outputs are made anew.')) return;
          const item = { bucket: job.source.bucket, key: job.source.key };
          apiJson('/v1/jobs', 'POST', { items: [item], preset: job.preset, force: true })
            .then(async ({ jobIds: [id] }) => {
              // An edited preset gives the object a new job: follow that one.
              if (id && id !== job.id) location.hash = `#/jobs/${encodeURIComponent(id)}`;
              else follower.refresh(await apiJson(path));
            })
            .catch((e) => say(e.message));
        },
      },
      'Run again',
    );

  const update = (job) => {
    title.textContent = `${job.source.bucket}/${job.source.key}`;
    meta.replaceChildren(`preset ${job.preset} · job ${job.id} · `, stateSpan(job.state));
    meta.dataset.state = job.state;
    overall.value = job.progress;
    overallText.textContent = percent(job.progress);
    now.textContent = [
      job.currentStage,
      job.etaSeconds === undefined ? null : `about ${seconds(job.etaSeconds)} left`,
    ]
      .filter(Boolean)
      .join(' · ');
    const ended = !OPEN.includes(job.state);
    times.textContent =
      `created ${new Date(job.createdAt).toLocaleString()} · ` +
      `${ended ? 'took' : 'running for'} ` +
      seconds(between(job.createdAt, ended ? job.updatedAt : undefined));
    const path = `/v1/jobs/${encodeURIComponent(job.id)}`;
    actions.replaceChildren(
      ...(OPEN.includes(job.state)
        ? [act('Cancel', 'DELETE', path, 'Cancel this job? Its running tasks are stopped.')]
        : []),
      ...(retryable(job) ? [act('Retry', 'POST', `${path}/retry`)] : []),
      ...(job.state === 'succeeded' ? [runAgain(job, path)] : []),
      ...(job.state === 'failed' && !retryable(job)
        ? [el('span', { class: 'muted' }, 'Permanent error: fix the source and upload it again.')]
        : []),
    );
    showError(error, job.error);
    timeline.update(job);
    if (job.state === 'succeeded' && shownOutputsFor !== job.updatedAt) {
      shownOutputsFor = job.updatedAt;
      playerSlot.replaceChildren(...[playerFor(job)].filter(Boolean));
      renderOutputs(job, outputs).catch((e) => say(e.message));
    } else if (job.state !== 'succeeded') {
      shownOutputsFor = null;
      playerSlot.replaceChildren();
      outputs.replaceChildren();
    }
  };

  follower = followJob(id, update);
  teardown.push(() => follower.stop());
}

/** The error line, and ffmpeg's output folded away in a monospace block. */
function showError(node, error) {
  node.hidden = !error;
  if (!error) return node.replaceChildren();
  node.replaceChildren(
    el('p', { class: 'error' }, `${error.code}: ${error.message}`),
    error.stderrTail
      ? el(
          'details',
          { class: 'stderr' },
          el('summary', {}, 'ffmpeg output'),
          el('pre', {}, error.stderrTail),
        )
      : null,
  );
}
