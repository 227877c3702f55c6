// Keeps a job page in step with the API through every action, whoever takes it.
import { apiJson, authHeaders, failure, say } from '/assets/dom.js';
import { readEvents } from '/assets/sse.js';

/**
 * Follows one job while the page is visible: its own event stream (whole job views) until the job
 * ends; then the stream of every job's changes, which says when this one moves again (a retry from
 * the CLI or another tab), and the job's own stream is opened again. `refresh()` re-reads at once
 * (after this page's own Cancel or Retry). A hidden page stops listening and catches up with a
 * fresh snapshot when it is shown again.
 */
export function followJob(id, onJob) {
  const path = `/v1/jobs/${encodeURIComponent(id)}`;
  const onError = (response) => failure(response).then((e) => say(e.message));
  let last = null;
  let streams = [];
  const seen = (job) => {
    last = job;
    onJob(job);
  };
  const close = () => {
    for (const stream of streams.splice(0)) stream.stop();
  };
  const follow = () => {
    close();
    streams.push(
      readEvents(`${path}/events`, {
        headers: authHeaders(),
        onEvent: (name, data) => {
          if (name === 'job') seen(data);
          if (name === 'end') watchForChanges();
        },
        onError,
      }),
    );
  };
  const watchForChanges = () => {
    close();
    const changed = (job) => job.state !== last?.state || job.updatedAt !== last?.updatedAt;
    streams.push(
      readEvents('/v1/jobs/events', {
        headers: authHeaders(),
        onEvent: (name, job) => name === 'job' && job.id === id && changed(job) && follow(),
        // A change between the end and this subscription is caught by one read once it listens.
        onOpen: () =>
          apiJson(path)
            .then((job) => changed(job) && follow())
            .catch((e) => say(e.message)),
        onError,
      }),
    );
  };
  const visibility = () => (document.hidden ? close() : follow());
  document.addEventListener('visibilitychange', visibility);
  follow();
  return {
    refresh(job) {
      if (job) seen(job);
      follow();
    },
    stop() {
      document.removeEventListener('visibilitychange', visibility);
      close();
    },
  };
}
