import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/load.js';
import { loadPresetsFile } from '../../pipeline/presets/load-file.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presets-file-'));
let n = 0;
function write(text: string, ext = 'yaml'): string {
  const file = path.join(dir, `p${n++}.${ext}`);
  fs.writeFileSync(file, text);
  return file;
}

describe('presets file', () => {
  it('adds presets, overrides built-ins by name, keeps routes and schedules', () => {
    const file = write(`
presets:
  - name: video-sd
    kind: video
    ladder: [360]
  - name: thumbs
    kind: image
    widths: [100]
    formats: [webp]
routes:
  - prefix: avatars/
    presets: [thumbs]
schedules:
  - name: nightly
    cron: "0 3 * * *"
    timezone: Europe/Paris
    bucket: mediaflow-input
    prefix: archive/
`);
    const catalog = loadPresetsFile(file);
    expect(catalog.file).toBe(file);
    const names = catalog.presets.map((p) => p.name);
    expect(names).toEqual(['video', 'video-sd', 'image', 'image-watermarked', 'audio', 'thumbs']);
    const sd = catalog.presets.find((p) => p.name === 'video-sd');
    expect(sd).toMatchObject({ kind: 'video', ladder: [360], crf: 23 });
    expect(catalog.routes).toEqual([{ prefix: 'avatars/', presets: ['thumbs'] }]);
    expect(catalog.schedules).toEqual([
      {
        name: 'nightly',
        cron: '0 3 * * *',
        timezone: 'Europe/Paris',
        bucket: 'mediaflow-input',
        prefix: 'archive/',
      },
    ]);
    expect(catalog.warnings).toEqual([]);
  });

  it('names the file, the path inside it and the line of a bad value', () => {
    const file = write(`presets:
  - name: a
    kind: image
  - name: b
    kind: image
  - name: c
    kind: video
    ladder:
      - 32
`);
    expect(() => loadPresetsFile(file)).toThrow(
      `Invalid presets file ${file} (MEDIAFLOW_PRESETS_FILE): Expected a number >= 64 for ` +
        'presets[2].ladder[0] but received 32 (line 9)',
    );
  });

  it('reports unknown keys, unknown preset names, bad cron and time zones together', () => {
    const file = write(`routes:
  - prefix: a/
    presets: [nope]
  - prefx: b/
    presets: [image]
schedules:
  - name: s
    cron: "61 * * * *"
    bucket: mediaflow-input
    prefix: ""
  - name: t
    cron: "* * * * *"
    timezone: Mars/Olympus
    bucket: mediaflow-input
    prefix: ""
`);
    let message = '';
    try {
      loadPresetsFile(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('Expected only known keys for routes[1] but received prefx (line 4)');
    expect(message).toMatch(/for schedules\[0\]\.cron but received "61 \* \* \* \*" \(line 8\)/);
    expect(message).toContain(
      'Expected an IANA time zone such as Europe/Paris for schedules[1].timezone but received ' +
        '"Mars/Olympus" (line 13)',
    );
    // Names are checked once the shapes are right.
    fs.writeFileSync(file, 'routes:\n  - prefix: a/\n    presets: [image, nope]\n');
    expect(() => loadPresetsFile(file)).toThrow(
      'Expected one of the preset names (video, video-sd, image, image-watermarked, audio) for ' +
        'routes[0].presets[1] but received "nope" (line 3)',
    );
  });

  it('reads JSON, and reports a YAML syntax error with its line', () => {
    const json = write(JSON.stringify({ presets: [{ name: 'x', kind: 'audio' }] }), 'json');
    expect(loadPresetsFile(json).presets.at(-1)).toMatchObject({ name: 'x', kind: 'audio' });
    const broken = write('presets:\n  - name: x\n   kind: [audio\n');
    expect(() => loadPresetsFile(broken)).toThrow(/not valid YAML: .*\(line \d+\)/);
  });

  it('warns about routes an earlier route always shadows', () => {
    const file = write(`routes:
  - prefix: media/
    presets: [image]
  - glob: "media/photos/**"
    presets: [video]
  - prefix: other/
    contentType: image/*
    presets: [image]
  - prefix: other/x/
    contentType: image/png
    maxBytes: 10
    presets: [audio]
  - prefix: other/
    presets: [audio]
`);
    expect(loadPresetsFile(file).warnings).toEqual([
      'routes[1] never matches: routes[0] comes first and matches everything it would',
      'routes[3] never matches: routes[2] comes first and matches everything it would',
    ]);
  });

  it('is part of the configuration: an invalid file is CONFIG_INVALID', () => {
    expect(loadConfig({}).catalog.presets.map((p) => p.name)).toContain('video-sd');
    const file = write('presets: 3\n');
    expect(() => loadConfig({ MEDIAFLOW_PRESETS_FILE: file })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => loadConfig({ MEDIAFLOW_PRESETS_FILE: path.join(dir, 'none.yaml') })).toThrow(
      /cannot read it/,
    );
  });

  it('is shown in the README exactly as samples/presets.yaml, which is valid', () => {
    const sample = fs.readFileSync('samples/presets.yaml', 'utf8');
    expect(fs.readFileSync('README.md', 'utf8')).toContain('```yaml\n' + sample + '```');
    expect(loadPresetsFile('samples/presets.yaml').warnings).toEqual([]);
  });
});
