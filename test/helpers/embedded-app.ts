import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createApp, type App, type AppOverrides } from '../../pipeline/app.js';
import { loadConfig, type Config } from '../../pipeline/config/load.js';
import { createLogger } from '../../pipeline/log.js';

/**
 * A whole embedded mediaflow (s3rver on a random port, fresh buckets and folders) for one test
 * file. `env` adds configuration variables.
 */
export async function startEmbeddedApp(
  overrides: AppOverrides = {},
  env: Record<string, string> = {},
): Promise<App & { dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-app-'));
  const id = crypto.randomBytes(3).toString('hex');
  const config: Config = loadConfig({
    MEDIAFLOW_DATA_DIR: dataDir,
    MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
    MEDIAFLOW_INPUT_BUCKET: `in-${id}`,
    MEDIAFLOW_OUTPUT_BUCKET: `out-${id}`,
    MEDIAFLOW_TASK_BACKOFF_MS: '5',
    MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const app = await createApp(config, createLogger(config.logLevel), overrides);
  return {
    ...app,
    dataDir,
    async close() {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every key under a prefix of a bucket. */
export async function listKeys(app: App, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of app.store.list(bucket, prefix)) keys.push(o.key);
  return keys.sort();
}
