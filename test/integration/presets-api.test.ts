import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetListSchema } from '../../pipeline/api/preset-view.js';
import { submitResponseSchema } from '../../pipeline/api/schemas.js';
import { buildServer } from '../../pipeline/api/server.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';
import { waitForEnd } from '../helpers/api-server.js';

const CLI = path.resolve('bin/mediaflow.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presets-api-'));
const file = path.join(dir, 'presets.yaml');
fs.writeFileSync(
  file,
  `presets:
  - name: thumbs
    kind: image
    widths: [100, 300]
    formats: [webp]
  - name: video-sd
    kind: video
    ladder: [360, 240]
routes:
  - prefix: avatars/
    presets: [thumbs]
`,
);

describe('presets over the API and the CLI', () => {
  let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
  let server: FastifyInstance;

  beforeAll(async () => {
    app = await startEmbeddedApp(
      { handlers: copyHandlers, workflows: new Map([['image' as const, copyWorkflow]]) },
      { MEDIAFLOW_PRESETS_FILE: file },
    );
    server = await buildServer(app, { rateLimit: false });
  });
  afterAll(async () => {
    await server.close();
    await app.close();
  });

  it('lists every preset with resolved settings, and shows one', async () => {
    const list = presetListSchema.parse((await server.inject({ url: '/v1/presets' })).json());
    expect(list.presets.map((p) => [p.name, p.origin])).toEqual([
      ['video', 'builtin'],
      ['video-sd', 'file'],
      ['image', 'builtin'],
      ['image-watermarked', 'builtin'],
      ['audio', 'builtin'],
      ['thumbs', 'file'],
    ]);
    expect(list.routes).toEqual([{ prefix: 'avatars/', presets: ['thumbs'] }]);
    const one = await server.inject({ url: '/v1/presets/thumbs' });
    expect(one.json()).toEqual({
      name: 'thumbs',
      kind: 'image',
      widths: [100, 300],
      formats: ['webp'],
      quality: { jpeg: 80, webp: 78, avif: 55 },
      origin: 'file',
    });
    const missing = await server.inject({ url: '/v1/presets/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toContain('expected one of video, video-sd, image');
  });

  it('names the known presets when a batch asks for an unknown one', async () => {
    const response = await server.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { items: [{ bucket: app.config.buckets.input, key: 'a.jpg' }], preset: 'thumb' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'PRESET_UNKNOWN',
      message:
        'Unknown preset "thumb"; expected one of video, video-sd, image, image-watermarked, ' +
        'audio, thumbs',
    });
  });

  it('routes API batches without a preset, and force runs succeeded jobs again', async () => {
    const input = app.config.buckets.input;
    await app.store.putBytes(input, 'avatars/me.jpg', 'me', { contentType: 'image/jpeg' });
    await app.store.putBytes(input, 'other/x.jpg', 'x', { contentType: 'image/jpeg' });
    const submit = async (force?: boolean) =>
      submitResponseSchema.parse(
        (
          await server.inject({
            method: 'POST',
            url: '/v1/jobs',
            payload: { prefix: '', ...(force ? { force } : {}) },
          })
        ).json(),
      );
    const first = await submit();
    expect(first.items.map((i) => [i.key, i.status, i.preset ?? i.reason])).toEqual([
      ['avatars/me.jpg', 'created', 'thumbs'],
      ['other/x.jpg', 'ignored', 'no-route'],
    ]);
    await waitForEnd(app, first.jobIds[0]!);
    expect((await submit()).items[0]).toMatchObject({ status: 'existing', state: 'succeeded' });
    const forced = await submit(true);
    expect(forced.items[0]).toMatchObject({ status: 'reprocessing', jobId: first.jobIds[0] });
    expect((await waitForEnd(app, first.jobIds[0]!)).state).toBe('succeeded');
  });

  it('lists the names in the OpenAPI document', async () => {
    const doc = (await server.inject({ url: '/openapi.json' })).json();
    expect(doc.paths['/v1/presets/{name}'].get.parameters[0].schema.enum).toEqual([
      'video',
      'video-sd',
      'image',
      'image-watermarked',
      'audio',
      'thumbs',
    ]);
    expect(doc.paths['/v1/jobs'].post.description).toContain('`thumbs`');
  });

  it('`mediaflow presets` prints them; an invalid file exits 3 naming the place', () => {
    const run = (args: string[], presets: string) =>
      spawnSync(process.execPath, [CLI, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, MEDIAFLOW_PRESETS_FILE: presets },
      });
    const list = run(['presets'], file);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^thumbs +image +file +widths 100\/300, webp$/m);
    expect(list.stdout).toMatch(/^video-sd +video +file +ladder 360\/240, CRF 23/m);
    expect(list.stdout).toContain('0. prefix avatars/ -> thumbs');
    const one = run(['presets', 'thumbs', '--json'], file);
    expect(JSON.parse(one.stdout)).toMatchObject({ name: 'thumbs', widths: [100, 300] });

    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'presets:\n  - name: x\n    kind: image\n    widths: [8]\n');
    const invalid = run(['presets'], bad);
    expect(invalid.status).toBe(3);
    expect(invalid.stderr).toContain(
      `mediaflow: CONFIG_INVALID: Invalid presets file ${bad} (MEDIAFLOW_PRESETS_FILE): ` +
        'Expected a number >= 16 for presets[0].widths[0] but received 8 (line 4)',
    );
  });
});
