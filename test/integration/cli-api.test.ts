import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../pipeline/cli/exit-codes.js';
import { EMBEDDED_CREDENTIALS } from '../../pipeline/storage/embedded-s3.js';
import { S3Store } from '../../pipeline/storage/s3-store.js';
import { solid } from '../helpers/image-fixtures.js';

const BIN = path.resolve('bin/mediaflow.js');
const KEY = 'cli-test-key-0123456789';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, MEDIAFLOW_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The API's CLI as users run it: `mediaflow serve` as a child process, and `submit`, `status` and
 * `jobs` against it over HTTP, checking output and exit codes (pipeline/cli/exit-codes.ts).
 */
describe('mediaflow serve, submit, status and jobs', () => {
  let serve: ChildProcess;
  let api: string;
  let dataDir: string;
  let store: S3Store;
  let serveExit: Promise<number | null>;
  const buckets = { MEDIAFLOW_INPUT_BUCKET: 'cli-input', MEDIAFLOW_OUTPUT_BUCKET: 'cli-output' };
  /** A client command against the served API; `key` null runs it without MEDIAFLOW_API_KEY. */
  const client = (args: string[], key: string | null = KEY) =>
    run([...args, '--api', api], { MEDIAFLOW_API_KEY: key ?? '' });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-cli-api-'));
    serve = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: {
        ...process.env,
        ...buckets,
        MEDIAFLOW_DATA_DIR: dataDir,
        MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
        MEDIAFLOW_API_KEYS: KEY,
        MEDIAFLOW_LOG_LEVEL: 'warn',
        MEDIAFLOW_WORKER_CONCURRENCY: '2',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    serveExit = new Promise((resolve) => serve.on('close', resolve));
    let banner = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${banner}`)), 60_000);
      serve.stderr!.on('data', (d) => {
        banner += d;
        if (/API and dashboard on/.test(banner)) {
          clearTimeout(timer);
          resolve();
        }
      });
      serve.on('close', () => reject(new Error(`serve exited: ${banner}`)));
    });
    api = /on (http:\/\/[^/\s]+)\//.exec(banner)![1]!;
    const endpoint = /embedded S3 at (http:\/\/[^\s,]+)/.exec(banner)![1]!;
    store = new S3Store({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      ...EMBEDDED_CREDENTIALS,
    });
    await store.putBytes(
      buckets.MEDIAFLOW_INPUT_BUCKET,
      'cli/red.png',
      await solid(64, 48, [200, 30, 30]).png().toBuffer(),
      { contentType: 'image/png' },
    );
    await store.putBytes(
      buckets.MEDIAFLOW_INPUT_BUCKET,
      'cli/broken.jpg',
      Buffer.from('not an image at all'),
      { contentType: 'image/jpeg' },
    );
  });

  afterAll(async () => {
    store?.destroy();
    if (serve && serve.exitCode === null) serve.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'submit --wait follows a job to success: prints its ' + 'id, exits 0; status and jobs show it',
    async () => {
      const res = await client([
        'submit',
        `${buckets.MEDIAFLOW_INPUT_BUCKET}/cli/red.png`,
        '--wait',
      ]);
      expect(res.stderr).toMatch(/succeeded +cli-input\/cli\/red.png/);
      expect(res.code).toBe(EXIT.OK);
      const id = res.stdout.trim();
      expect(id).toMatch(/^j[0-9a-f]{24}$/);

      const status = await client(['status', id]);
      expect(status.code).toBe(EXIT.OK);
      expect(status.stdout).toContain(`job      ${id}`);
      expect(status.stdout).toMatch(/state +succeeded \(100%\)/);
      expect(status.stdout).toContain(`s3://cli-output/cli-input/cli/red.png/image/${id}/`);
      expect(JSON.parse((await client(['status', id, '--json'])).stdout)).toMatchObject({
        id,
        state: 'succeeded',
      });

      const jobs = await client(['jobs', '--state', 'succeeded']);
      expect(jobs.code).toBe(EXIT.OK);
      expect(jobs.stdout).toMatch(
        new RegExp(`^${id}  succeeded +100%  image +s3://cli-input/cli/red.png`, 'm'),
      );
      const found = await client(['jobs', '--search', 'RED.PNG']);
      expect(found.code).toBe(EXIT.OK);
      expect(found.stdout).toMatch(new RegExp(`^${id} `, 'm'));
      const missed = await client(['jobs', '--search', 'no-such-key']);
      expect(missed.stdout).toBe('');
      expect(missed.stderr).toBe('no jobs\n');
    },
  );

  it('exits 1 when a job fails, naming its error', async () => {
    const res = await client([
      'submit',
      `${buckets.MEDIAFLOW_INPUT_BUCKET}/cli/broken.jpg`,
      '--wait',
    ]);
    expect(res.code).toBe(EXIT.JOB_FAILED);
    // Each job is labelled with its preset (75066a6): with routes one object can make several.
    expect(res.stderr).toMatch(/failed +cli-input\/cli\/broken.jpg \(image\): MEDIA_UNREADABLE /);
  });

  it('submits a prefix without waiting and reports ignored objects', async () => {
    const res = await client([
      'submit',
      `${buckets.MEDIAFLOW_INPUT_BUCKET}/cli/`,
      `${buckets.MEDIAFLOW_INPUT_BUCKET}/cli/missing.png`,
    ]);
    // The prefix's jobs are submitted, but a named object that does not exist is an error (a typo
    // in a script must not pass); it used to exit 0.
    expect(res.code).toBe(EXIT.NOT_FOUND);
    expect(res.stdout.trim().split('\n')).toHaveLength(2);
    expect(res.stderr).toContain('ignored   cli-input/cli/missing.png (missing)');
  });

  it('prints one line and a documented exit code for each kind of error', async () => {
    const cases: [string[], string | null, number, RegExp][] = [
      [['jobs'], null, EXIT.AUTH, /^mediaflow: UNAUTHORIZED: A bearer token is required/],
      [['jobs'], 'wrong-key', EXIT.AUTH, /^mediaflow: UNAUTHORIZED: The bearer token is not valid/],
      [['status', `j${'0'.repeat(24)}`], KEY, EXIT.NOT_FOUND, /^mediaflow: JOB_NOT_FOUND: No job/],
      [
        ['submit', 'cli-input/cli/red.png', '--preset', 'nope'],
        KEY,
        EXIT.USAGE,
        /^mediaflow: PRESET_UNKNOWN: Unknown preset "nope"/,
      ],
      [
        ['jobs', '--state', 'done'],
        KEY,
        EXIT.USAGE,
        /^mediaflow: REQUEST_INVALID: Expected one of "queued"/,
      ],
    ];
    for (const [args, key, code, message] of cases) {
      const res = await client(args, key);
      expect(res.code, args.join(' ')).toBe(code);
      expect(res.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(res.stderr, args.join(' ')).toMatch(message);
    }
    const unreachable = await run(['jobs', '--api', 'http://127.0.0.1:9'], {
      MEDIAFLOW_API_KEY: KEY,
    });
    expect(unreachable.code).toBe(EXIT.UNAVAILABLE);
    expect(unreachable.stderr).toMatch(
      /^mediaflow: UNAVAILABLE: Cannot reach the API at http:\/\/127.0.0.1:9/,
    );
  });

  it('refuses to serve beyond loopback without API keys (exit 3, one line)', async () => {
    const res = await run(['serve', '--port', '0'], {
      MEDIAFLOW_HOST: '0.0.0.0',
      MEDIAFLOW_API_KEYS: '',
      MEDIAFLOW_DATA_DIR: path.join(dataDir, 'refused'),
    });
    expect(res.code).toBe(EXIT.CONFIG);
    expect(res.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^mediaflow: CONFIG_INVALID: MEDIAFLOW_HOST is 0.0.0.0 but MEDIAFLOW_API_KEYS is empty/,
      ),
    ]);
  });

  it('shuts down on SIGTERM and exits 0', async () => {
    serve.kill('SIGTERM');
    expect(await serveExit).toBe(EXIT.OK);
  });
});
