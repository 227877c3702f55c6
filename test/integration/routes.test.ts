import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmitOutcome } from '../../pipeline/jobs/orchestrator.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routes-'));
function presetsFile(name: string, thumbFormats: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `presets:
  - name: thumb-a
    kind: image
    widths: [100]
    formats: [${thumbFormats}]
  - name: thumb-b
    kind: image
    widths: [50]
routes:
  - prefix: avatars/
    presets: [thumb-a]
  - glob: "products/**/*.jpg"
    presets: [thumb-a, thumb-b]
`,
  );
  return file;
}

const ids = (outcomes: SubmitOutcome[]) =>
  outcomes.map((o) => (o.status === 'ignored' ? o.reason : `${o.status}:${o.preset}`));

describe('routes from uploads to presets (real S3-protocol server, copy workflow)', () => {
  const overrides = {
    handlers: copyHandlers,
    workflows: new Map([['image' as const, copyWorkflow]]),
  };
  let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
  let input: string;

  beforeAll(async () => {
    app = await startEmbeddedApp(overrides, {
      MEDIAFLOW_PRESETS_FILE: presetsFile('a.yaml', 'webp'),
    });
    input = app.config.buckets.input;
    for (const key of ['avatars/me.jpg', 'products/shoes/red.jpg', 'misc/x.jpg'])
      await app.store.putBytes(input, key, `content of ${key}`, { contentType: 'image/jpeg' });
  });
  afterAll(() => app.close());

  it('sends an upload to the presets of the first matching route, one job each', async () => {
    expect(ids(await app.orchestrator.submitAll({ bucket: input, key: 'avatars/me.jpg' }))).toEqual(
      ['created:thumb-a'],
    );
    const product = await app.orchestrator.submitAll({
      bucket: input,
      key: 'products/shoes/red.jpg',
    });
    expect(ids(product)).toEqual(['created:thumb-a', 'created:thumb-b']);
    const jobIds = product.map((o) => ('jobId' in o ? o.jobId : ''));
    expect(new Set(jobIds).size).toBe(2);
    expect(ids(await app.orchestrator.submitAll({ bucket: input, key: 'misc/x.jpg' }))).toEqual([
      'no-route',
    ]);
    // A name given explicitly bypasses the routes.
    expect(
      ids(await app.orchestrator.submitAll({ bucket: input, key: 'misc/x.jpg', preset: 'image' })),
    ).toEqual(['created:image']);
    const done = await waitForJobs(app.jobs, jobIds);
    expect(done.map((j) => [j.spec.preset.name, j.state])).toEqual([
      ['thumb-a', 'succeeded'],
      ['thumb-b', 'succeeded'],
    ]);
    // The same upload again finds its jobs.
    expect(
      ids(await app.orchestrator.submitAll({ bucket: input, key: 'products/shoes/red.jpg' })),
    ).toEqual(['existing:thumb-a', 'existing:thumb-b']);
  });

  it('force runs a succeeded job again in place', async () => {
    const [first] = await app.orchestrator.submitAll({ bucket: input, key: 'avatars/me.jpg' });
    if (first?.status !== 'existing') throw new Error(`unexpected ${JSON.stringify(first)}`);
    await waitForJobs(app.jobs, [first.jobId]);
    const before = (await app.jobs.get(first.jobId))!;
    const [forced] = await app.orchestrator.submitAll({
      bucket: input,
      key: 'avatars/me.jpg',
      force: true,
    });
    expect(forced).toMatchObject({ status: 'reprocessing', jobId: first.jobId });
    const [after] = await waitForJobs(app.jobs, [first.jobId]);
    expect(after!.state).toBe('succeeded');
    expect(after!.stage).toBeGreaterThan(before.stage);
    expect(after!.outputs.map((o) => o.key)).toEqual(before.outputs.map((o) => o.key));
  });

  it('adopts committed work in a new process, and a changed preset gives new jobs', async () => {
    const env = {
      MEDIAFLOW_S3_ENDPOINT: app.embedded!.endpoint,
      MEDIAFLOW_INPUT_BUCKET: input,
      MEDIAFLOW_OUTPUT_BUCKET: app.config.buckets.output,
    };
    const same = await startEmbeddedApp(overrides, {
      ...env,
      MEDIAFLOW_PRESETS_FILE: presetsFile('same.yaml', 'webp'),
    });
    const changed = await startEmbeddedApp(overrides, {
      ...env,
      MEDIAFLOW_PRESETS_FILE: presetsFile('changed.yaml', 'jpeg, webp'),
    });
    try {
      const key = 'avatars/me.jpg';
      const adopted = await same.orchestrator.submitAll({ bucket: input, key });
      expect(adopted).toMatchObject([{ status: 'adopted', state: 'succeeded' }]);
      const [original] = await app.orchestrator.submitAll({ bucket: input, key });
      expect(adopted[0]).toMatchObject({ jobId: (original as { jobId: string }).jobId });

      const [fresh] = await changed.orchestrator.submitAll({ bucket: input, key });
      expect(fresh).toMatchObject({ status: 'created', preset: 'thumb-a' });
      expect((fresh as { jobId: string }).jobId).not.toBe((original as { jobId: string }).jobId);
      await waitForJobs(changed.jobs, [(fresh as { jobId: string }).jobId]);
    } finally {
      await same.close();
      await changed.close();
    }
  });
});
