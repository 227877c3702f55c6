// A finished job's outputs: the player (with a quality selector and seek previews), images,
// download links with "copy URL" for the streaming manifests, and the manifest itself.
import Hls from '/assets/vendor/hls.mjs';
import { api, apiKey, bytes, el, say, teardown } from '/assets/dom.js';
import { seekBar } from '/assets/seek-preview.js';

const STREAMING = /\.(m3u8|mpd)$/;

/** The player for the job's HLS master playlist, or null when it has none. */
export function playerFor(job) {
  const playlist =
    job.outputs.find((o) => o.role === 'hls-master') ??
    job.outputs.find((o) => o.key.endsWith('master.m3u8')) ??
    job.outputs.find((o) => o.key.endsWith('.m3u8'));
  return playlist ? player(playlist.url, job) : null;
}

export async function renderOutputs(job, section) {
  const images = job.outputs.filter((o) => o.contentType.startsWith('image/')).slice(0, 24);
  const manifest = el('pre', { id: 'manifest' }, 'loading…');
  // replaceChildren would print a null as text: absent parts are dropped first.
  section.replaceChildren(
    ...[
      el('h3', {}, 'Outputs'),
      images.length
        ? el(
            'div',
            { class: 'outputs' },
            images.map((o) => imageFigure(o)),
          )
        : null,
      el(
        'table',
        { id: 'output-list' },
        el(
          'tbody',
          {},
          job.outputs
            .filter((o) => o.role !== 'hls-segment' && o.role !== 'dash-segment')
            .map((o) =>
              el(
                'tr',
                {},
                el('td', { class: 'key' }, download(o, o.key.slice(job.outputPrefix.length))),
                el('td', {}, o.role),
                el('td', {}, bytes(o.bytes)),
                el('td', {}, o.width ? `${o.width}×${o.height}` : ''),
                el('td', {}, STREAMING.test(o.key) ? copyUrl(o.url) : null),
              ),
            ),
        ),
      ),
      segmentsLine(job),
      el('h3', {}, 'Manifest'),
      manifest,
    ].filter(Boolean),
  );
  if (job.manifestUrl)
    manifest.textContent = JSON.stringify(await (await api(job.manifestUrl)).json(), null, 2);
}

function segmentsLine(job) {
  const segments = job.outputs.filter((o) => o.role === 'hls-segment' || o.role === 'dash-segment');
  if (!segments.length) return null;
  const total = segments.reduce((sum, o) => sum + o.bytes, 0);
  return el('p', { class: 'muted' }, `+ ${segments.length} media segments, ${bytes(total)}`);
}

/**
 * A download link. Without a key the browser follows it; with one, <a href> cannot send the
 * header, so the bytes are fetched with it and saved from a blob URL.
 */
function download(output, name) {
  const link = el('a', { href: output.url, download: name.split('/').pop() }, name);
  link.addEventListener('click', (event) => {
    if (!apiKey()) return;
    event.preventDefault();
    api(output.url)
      .then((r) => r.blob())
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        const save = el('a', { href: url, download: name.split('/').pop() });
        save.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      })
      .catch((e) => say(e.message));
  });
  return link;
}

/** The manifest's absolute URL, for a player or a CDN origin, with a button that copies it. */
function copyUrl(path) {
  const absolute = new URL(path, location.href).href;
  const field = el('input', { class: 'url', readonly: true, value: absolute, size: 40 });
  const button = el('button', { type: 'button', class: 'copy' }, 'Copy URL');
  button.addEventListener('click', async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(absolute);
      button.textContent = 'Copied';
    } catch {
      // Without clipboard access the selected field is there to copy by hand.
      button.textContent = 'Press Ctrl+C';
    }
  });
  return el('span', { class: 'copy-url' }, field, ' ', button);
}

function player(url, job) {
  const video = el('video', { id: 'player', controls: true, muted: true, playsinline: true });
  video.muted = true;
  const quality = el(
    'select',
    { id: 'quality', hidden: true },
    el('option', { value: -1 }, 'auto'),
  );
  if (Hls.isSupported()) {
    // xhrSetup adds the key to every playlist and segment request hls.js makes.
    const hls = new Hls({
      xhrSetup: (xhr) => apiKey() && xhr.setRequestHeader('authorization', `Bearer ${apiKey()}`),
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
      quality.append(
        ...data.levels.map((level, i) =>
          el('option', { value: i }, level.height ? `${level.height}p` : `level ${i}`),
        ),
      );
      quality.hidden = data.levels.length < 2;
    });
    quality.addEventListener('change', () => {
      hls.currentLevel = Number(quality.value);
    });
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
  return el(
    'div',
    { class: 'player' },
    video,
    seekBar(job, video),
    el('label', {}, 'Quality ', quality),
  );
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
