// The Upload button (and dropping a file on the page): the file goes to the input bucket through
// PUT /v1/uploads/:name, and the page opens the job the upload event starts.
import { api, apiJson, authHeaders, el, say, teardown } from '/assets/dom.js';
import { readEvents } from '/assets/sse.js';

/** A name the API accepts: letters, digits, spaces and . _ ( ) + -, at most 200. */
const safeName = (name) =>
  name
    .replace(/[^\w .()+-]/g, '_')
    .replace(/^[^\w]+/, '')
    .slice(0, 200);

export function uploadButton() {
  const input = el('input', { type: 'file', id: 'upload-file', hidden: true });
  const button = el('button', { type: 'button', id: 'upload' }, 'Upload');
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => input.files[0] && void upload(input.files[0]));
  const over = (event) => {
    event.preventDefault();
    document.body.classList.toggle('dropping', event.type === 'dragover');
  };
  const drop = (event) => {
    over(event);
    const file = event.dataTransfer?.files?.[0];
    if (file) void upload(file);
  };
  document.addEventListener('dragover', over);
  document.addEventListener('dragleave', over);
  document.addEventListener('drop', drop);
  teardown.push(() => {
    document.removeEventListener('dragover', over);
    document.removeEventListener('dragleave', over);
    document.removeEventListener('drop', drop);
  });
  return el('span', {}, button, input);
}

async function upload(file) {
  const name = safeName(file.name) || 'upload';
  let key = null;
  let done = false;
  // Listening before the upload: the job can start before the upload's answer arrives.
  const opened = (job) => {
    if (key && !done && job.source?.key === key) {
      done = true;
      stream.stop();
      location.hash = `#/jobs/${job.id}`;
    }
  };
  const stream = readEvents('/v1/jobs/events', {
    headers: authHeaders(),
    onEvent: (eventName, job) => eventName === 'job' && opened(job),
  });
  teardown.push(() => stream.stop());
  try {
    say(`Uploading ${name} (${Math.round(file.size / 1024)} KiB)…`);
    // The File is sent as the body: the browser streams it from disk.
    const stored = await (
      await api(`/v1/uploads/${encodeURIComponent(name)}`, {
        method: 'PUT',
        body: file,
        headers: { 'content-type': file.type || 'application/octet-stream' },
      })
    ).json();
    key = stored.key;
    say(`Uploaded ${stored.key}: waiting for the upload event to start its job…`);
    // The job may have started (or ended) before the key was known: look in the list too,
    // until the stream or the list finds it.
    for (let i = 0; i < 60 && !done; i++) {
      const page = await apiJson('/v1/jobs?limit=20');
      const job = page.jobs.find((j) => j.source?.key === key);
      if (job) opened(job);
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    stream.stop();
    say(error.message);
  }
}
