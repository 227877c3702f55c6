// "Submit objects": the presets in force (GET /v1/presets) with their main settings, and a form
// that submits objects or a prefix (POST /v1/jobs) with a chosen preset, optionally forced to run
// again. New jobs then appear in the list through its live stream.
import { apiJson, el, say } from '/assets/dom.js';

/** One line of a preset's settings, as `mediaflow presets` prints it. */
export function presetSummary(p) {
  const mark = p.watermark
    ? `, watermark ${p.watermark.type === 'text' ? JSON.stringify(p.watermark.text) : 'image'}`
    : '';
  if (p.kind === 'video') return `ladder ${p.ladder.join('/')}, CRF ${p.crf}${mark}`;
  if (p.kind === 'image') return `widths ${p.widths.join('/')}, ${p.formats.join('/')}${mark}`;
  return `${p.formats.join('/')} at ${p.bitrateKbps} kb/s`;
}

/** `bucket/key` lines into batch items; the first slash separates bucket and key. */
export function parseTargets(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const slash = line.indexOf('/');
      if (slash <= 0 || slash === line.length - 1)
        throw new Error(`Expected bucket/key for each line but received ${JSON.stringify(line)}`);
      return { bucket: line.slice(0, slash), key: line.slice(slash + 1) };
    });
}

export function submitForm() {
  const preset = el(
    'select',
    { id: 'submit-preset', name: 'preset' },
    el('option', { value: '' }, 'by route or media type'),
  );
  const list = el('tbody');
  const targets = el('textarea', {
    id: 'submit-targets',
    rows: 3,
    placeholder: 'mediaflow-input/clips/a.mp4\nmediaflow-input/avatars/me.jpg',
  });
  const prefix = el('input', { id: 'submit-prefix', placeholder: 'or a key prefix: clips/' });
  const force = el('input', { id: 'submit-force', type: 'checkbox' });
  const form = el(
    'form',
    { id: 'submit-form', class: 'submit-form' },
    el('label', {}, 'Objects (bucket/key, one a line) ', targets),
    el('label', {}, 'Prefix of the input bucket ', prefix),
    el('label', {}, 'Preset ', preset),
    el('label', { title: 'Redo objects whose jobs succeeded' }, force, ' run again if done'),
    el('button', { type: 'submit' }, 'Submit'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit().catch((e) => say(e.message));
  });

  async function submit() {
    const body = prefix.value.trim()
      ? { prefix: prefix.value.trim() }
      : { items: parseTargets(targets.value) };
    if (preset.value) body.preset = preset.value;
    if (force.checked) body.force = true;
    const answer = await apiJson('/v1/jobs', 'POST', body);
    const counts = {};
    for (const item of answer.items) counts[item.status] = (counts[item.status] ?? 0) + 1;
    say(
      `Submitted: ${Object.entries(counts)
        .map(([status, n]) => `${n} ${status}`)
        .join(', ')}`,
    );
  }

  apiJson('/v1/presets')
    .then(({ presets, routes }) => {
      for (const p of presets) {
        preset.append(el('option', { value: p.name }, `${p.name} (${p.kind})`));
        list.append(
          el(
            'tr',
            { 'data-preset': p.name },
            el('td', {}, p.name),
            el('td', {}, p.kind),
            el('td', {}, p.origin),
            el('td', {}, presetSummary(p)),
          ),
        );
      }
      if (routes.length === 0) preset.options[0].textContent = 'by media type';
    })
    .catch((e) => say(e.message));

  return el(
    'details',
    { id: 'submit', class: 'submit' },
    el('summary', {}, 'Submit objects'),
    form,
    el(
      'table',
      { id: 'presets' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['Preset', 'Kind', 'From', 'Settings'].map((h) => el('th', {}, h)),
        ),
      ),
      list,
    ),
  );
}
