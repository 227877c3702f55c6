// The player's seek bar with previews: hovering shows the sprite tile of that moment, from the
// thumbnails task's WebVTT index (cues of `sprite.jpg#xywh=x,y,w,h`). The browser's own seek bar
// lives in the video's shadow DOM, out of a page's reach, hence a bar of our own under the video.
import { api, el, say, teardown } from '/assets/dom.js';

/** `hh:mm:ss.mmm` or `mm:ss.mmm` -> seconds. */
function vttSeconds(text) {
  return text
    .trim()
    .split(':')
    .reduce((total, part) => total * 60 + Number(part), 0);
}

/**
 * The cues of a sprite index: start and end in seconds, the tile's image URL (resolved against
 * the index's own URL, without its fragment) and its rectangle.
 */
export function parseSpriteVtt(text, indexUrl) {
  const cues = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length - 1; i++) {
    const times = /^([\d:.]+)\s+-->\s+([\d:.]+)/.exec(lines[i]);
    const target = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(lines[i + 1]?.trim() ?? '');
    if (!times || !target) continue;
    const [, url, x, y, w, h] = target;
    cues.push({
      start: vttSeconds(times[1]),
      end: vttSeconds(times[2]),
      image: new URL(url, indexUrl).href,
      x: Number(x),
      y: Number(y),
      w: Number(w),
      h: Number(h),
    });
  }
  return cues;
}

/** The cue showing at `time`: the last one started by then (past the end, the last one). */
export function cueAt(cues, time) {
  let found = cues[0];
  for (const cue of cues) if (cue.start <= time) found = cue;
  return found;
}

/** A seek bar for `video`: click to seek; previews once the job's sprite index is loaded. */
export function seekBar(job, video) {
  const played = el('div', { class: 'seek-played' });
  const label = el('span', { class: 'seek-time' });
  const preview = el('div', { id: 'seek-preview', class: 'seek-preview', hidden: true }, label);
  const bar = el('div', { id: 'seek-bar', class: 'seek-bar', title: 'Seek' }, played, preview);
  let cues = [];
  let sprite = '';

  const duration = () =>
    Number.isFinite(video.duration) && video.duration > 0
      ? video.duration
      : (cues.at(-1)?.end ?? 0);
  const timeAt = (event) => {
    const rect = bar.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    return { fraction, time: fraction * duration(), width: rect.width };
  };

  bar.addEventListener('click', (event) => {
    const { time } = timeAt(event);
    if (duration() > 0) video.currentTime = time;
  });
  video.addEventListener('timeupdate', () => {
    const total = duration();
    played.style.width = `${total > 0 ? (100 * video.currentTime) / total : 0}%`;
  });
  bar.addEventListener('mousemove', (event) => {
    if (!cues.length) return;
    const { fraction, time, width } = timeAt(event);
    const cue = cueAt(cues, time);
    // Set through the CSSOM: the page's CSP allows no inline style attributes.
    preview.style.width = `${cue.w}px`;
    preview.style.height = `${cue.h}px`;
    preview.style.backgroundImage = `url("${sprite}")`;
    preview.style.backgroundPosition = `${-cue.x}px ${-cue.y}px`;
    const left = Math.min(Math.max(0, fraction * width - cue.w / 2), Math.max(0, width - cue.w));
    preview.style.left = `${left}px`;
    preview.dataset.time = time.toFixed(3);
    label.textContent = clock(time);
    preview.hidden = false;
  });
  bar.addEventListener('mouseleave', () => {
    preview.hidden = true;
  });

  const index = job.outputs.find((o) => o.role === 'sprite-index');
  if (index)
    loadPreviews(index.url)
      .then((loaded) => {
        ({ cues, sprite } = loaded);
        bar.dataset.previews = 'ready';
      })
      .catch((e) => say(`Seek previews unavailable: ${e.message}`));
  return bar;
}

/** The index and its sprite, fetched with the key; the sprite is shown from a blob URL. */
async function loadPreviews(indexUrl) {
  const absolute = new URL(indexUrl, location.href).href;
  const cues = parseSpriteVtt(await (await api(indexUrl)).text(), absolute);
  if (!cues.length) throw new Error('the sprite index has no cues');
  const blob = await (await api(cues[0].image)).blob();
  const sprite = URL.createObjectURL(blob);
  teardown.push(() => URL.revokeObjectURL(sprite));
  return { cues, sprite };
}

/** 83.4 -> "1:23". */
function clock(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
