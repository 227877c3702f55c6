import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/load.js';

describe('loadConfig', () => {
  it('gives a working embedded configuration with nothing set', () => {
    const config = loadConfig({});
    expect(config.mode).toEqual({ storage: 'embedded', runner: 'in-process' });
    expect(config.buckets).toEqual({
      input: 'mediaflow-input',
      inputs: ['mediaflow-input'],
      output: 'mediaflow-output',
      outputPrefix: '',
    });
    expect(loadConfig({ MEDIAFLOW_INPUT_BUCKET: 'uploads, avatars' }).buckets).toMatchObject({
      input: 'uploads',
      inputs: ['uploads', 'avatars'],
    });
    expect(config.worker.concurrency).toBe(os.availableParallelism());
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('switches to external storage and BullMQ when their addresses are given', () => {
    const config = loadConfig({
      MEDIAFLOW_S3_ENDPOINT: 'http://minio:9000',
      REDIS_URL: 'redis://redis:6379',
    });
    expect(config.mode).toEqual({ storage: 'external', runner: 'bullmq' });
  });

  it('names the bad variable and what was expected', () => {
    expect(() => loadConfig({ MEDIAFLOW_WORKER_CONCURRENCY: 'lots' })).toThrow(
      /MEDIAFLOW_WORKER_CONCURRENCY: .*number/,
    );
    expect(() => loadConfig({ MEDIAFLOW_INPUT_BUCKET: 'Bad_Bucket' })).toThrow(
      /MEDIAFLOW_INPUT_BUCKET: an S3 bucket name/,
    );
    expect(() => loadConfig({ MEDIAFLOW_WEBHOOK_TOKEN: 'short' })).toThrow(
      /MEDIAFLOW_WEBHOOK_TOKEN: at least 16 characters/,
    );
  });

  it('reads a config file of the same variables, with the environment winning', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'mediaflow.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        MEDIAFLOW_OUTPUT_BUCKET: 'from-file',
        MEDIAFLOW_API_KEYS: ['a', 'b'],
        MEDIAFLOW_PORT: 9999,
      }),
    );
    const config = loadConfig({ MEDIAFLOW_CONFIG_FILE: file, MEDIAFLOW_PORT: '7000' });
    expect(config.buckets.output).toBe('from-file');
    expect(config.api.apiKeys).toEqual(['a', 'b']);
    expect(config.api.port).toBe(7000);
  });

  it('normalises the output prefix to end with one slash', () => {
    expect(loadConfig({ MEDIAFLOW_OUTPUT_PREFIX: '/derived//' }).buckets.outputPrefix).toBe(
      'derived/',
    );
  });
});
