import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../pipeline/cli/serve.js';
import { loadConfig } from '../../pipeline/config/load.js';
import { createLogger } from '../../pipeline/log.js';
import { reloadPresets } from '../../pipeline/presets/reload.js';
import type { ScheduleView } from '../../pipeline/schedules/port.js';

/**
 * `mediaflow serve` (embedded) runs the presets file's schedules, lists them at GET /v1/schedules
 * with their last and next runs, and puts a reloaded file's schedules in force (as on SIGHUP).
 */
describe('serve runs the schedules of the presets file', () => {
  const id = crypto.randomBytes(3).toString('hex');
  const input = `in-${id}`;
  let dir: string;
  let file: string;
  let handle: ServeHandle;
  const write = (name: string) =>
    fs.writeFileSync(
      file,
      'schedules:\n' +
        `  - {name: ${name}, cron: "* * * * * *", bucket: ${input}, prefix: scheduled/}\n`,
    );
  const list = async () =>
    ((await (await fetch(`${handle.url}/v1/schedules`)).json()) as { schedules: ScheduleView[] })
      .schedules;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-serve-schedules-'));
    file = path.join(dir, 'presets.yaml');
    write('first');
    const config = loadConfig({
      MEDIAFLOW_DATA_DIR: dir,
      MEDIAFLOW_SCRATCH_DIR: path.join(dir, 'scratch'),
      MEDIAFLOW_INPUT_BUCKET: input,
      MEDIAFLOW_OUTPUT_BUCKET: `out-${id}`,
      MEDIAFLOW_PRESETS_FILE: file,
      MEDIAFLOW_PORT: '0',
      MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    handle = await startServe(config, createLogger(config.logLevel));
  });
  afterAll(async () => {
    await handle?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fires, lists last and next runs, and follows a reload', async () => {
    await expect
      .poll(async () => (await list()).map((s) => [s.name, s.lastRun?.report?.listed]), {
        timeout: 10_000,
      })
      .toEqual([['first', 0]]);
    const [first] = await list();
    expect(first).toMatchObject({ prefix: 'scheduled/', bucket: input, timezone: null });
    expect(Date.parse(first?.nextRun ?? '')).toBeGreaterThan(Date.now() - 1000);

    write('second');
    expect(reloadPresets(handle.app).status).toBe('reloaded');
    await handle.reloadSchedules();
    await expect
      .poll(async () => (await list()).map((s) => [s.name, Boolean(s.lastRun)]), {
        timeout: 10_000,
      })
      .toEqual([['second', true]]);
  });
});
