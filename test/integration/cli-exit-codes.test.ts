import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../pipeline/cli/exit-codes.js';
import { API_KEY, startApiApp } from '../helpers/api-server.js';

const BIN = path.resolve('bin/mediaflow.js');
const NO_JOB = `j${'0'.repeat(24)}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Piped stdout and stderr, as in CI: no progress bars, plain lines.
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Every exit code the README documents, one row per case, run as users run the CLI (a child
 * process with piped output) against a real API where the case needs one.
 */
describe('mediaflow exit codes', () => {
  let api: Awaited<ReturnType<typeof startApiApp>>;
  let url: string;
  let tmp: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await startApiApp();
    url = await api.server.listen({ host: '127.0.0.1', port: 0 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-exit-'));
    fs.writeFileSync(path.join(tmp, 'broken.jpg'), 'not an image at all');
    env = {
      MEDIAFLOW_DATA_DIR: path.join(tmp, 'data'),
      MEDIAFLOW_SCRATCH_DIR: path.join(tmp, 'scratch'),
      MEDIAFLOW_API_KEY: API_KEY,
      MEDIAFLOW_LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    await api?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('exits with the documented code and one human line for each case', async () => {
    const busyPort = new URL(url).port;
    const input = api.app.config.buckets.input;
    type Case = {
      args: string[];
      code: number;
      stderr: RegExp;
      env?: Record<string, string>;
      /**
       * Found before any work starts: the run gets an ffmpeg that does not exist, which starting
       * the app (store, runner) would report as BINARY_MISSING instead of the expected error.
       */
      early?: boolean;
      /** Lines allowed on stderr besides the error (progress lines, the log hint). */
      lines?: number;
      stdout?: RegExp;
    };
    const cases: Case[] = [
      { args: ['--help'], code: EXIT.OK, stderr: /^$/ },
      {
        args: ['--version'],
        code: EXIT.OK,
        stderr: /^$/,
        stdout: /^mediaflow \d+\.\d+\.\d+\nffmpeg \S+.*\nffprobe /,
      },
      { args: ['jobs', '--api', url], code: EXIT.OK, stderr: /^no jobs$/ },
      { args: ['retry', '--failed', '--api', url], code: EXIT.OK, stderr: /^retried 0 failed/ },
      {
        args: ['process', path.join(tmp, 'broken.jpg'), '--out', path.join(tmp, 'out')],
        code: EXIT.JOB_FAILED,
        stderr: /^failed +broken\.jpg: MEDIA_UNREADABLE .*\ndetails: .*mediaflow\.log$/m,
        lines: 3,
      },
      {
        args: ['bogus'],
        code: EXIT.USAGE,
        stderr: /^mediaflow: unknown command 'bogus'\n\(mediaflow --help lists the commands\)$/,
        lines: 2,
      },
      {
        args: ['process', '--frobnicate'],
        code: EXIT.USAGE,
        stderr:
          /^mediaflow: unknown option '--frobnicate'\n\(mediaflow process --help for usage\)$/,
        lines: 2,
      },
      {
        args: ['process', path.join(tmp, 'missing.jpg')],
        code: EXIT.USAGE,
        stderr: /^mediaflow: REQUEST_INVALID: Expected readable files: no file .*missing\.jpg$/,
        early: true,
      },
      {
        args: ['process', tmp],
        code: EXIT.USAGE,
        stderr: /^mediaflow: REQUEST_INVALID: .* is a directory$/,
        early: true,
      },
      {
        args: ['process', 'samples/photo.jpg', 'samples/photo.jpg'],
        code: EXIT.USAGE,
        stderr: /^mediaflow: REQUEST_INVALID: .*photo\.jpg given twice/,
        early: true,
      },
      {
        args: ['process', 'samples/photo.jpg', '--preset', 'nope'],
        code: EXIT.USAGE,
        stderr: /^mediaflow: PRESET_UNKNOWN: Unknown preset "nope"/,
        early: true,
      },
      {
        args: ['retry', '--api', url],
        code: EXIT.USAGE,
        stderr: /^mediaflow: REQUEST_INVALID: Expected a job id or --failed$/,
      },
      {
        args: ['jobs', '--state', 'done', '--api', url],
        code: EXIT.USAGE,
        stderr: /^mediaflow: REQUEST_INVALID: Expected one of "queued"/,
      },
      {
        args: ['serve'],
        env: { MEDIAFLOW_PORT: '99999' },
        code: EXIT.CONFIG,
        stderr: /^mediaflow: CONFIG_INVALID: .*MEDIAFLOW_PORT/,
      },
      // serve is a daemon: its logs belong on stderr, so only warnings are asked for here.
      {
        args: ['serve', '--port', busyPort],
        env: { MEDIAFLOW_LOG_LEVEL: 'warn' },
        code: EXIT.CONFIG,
        stderr: new RegExp(
          `^mediaflow: CONFIG_INVALID: Cannot listen on 127.0.0.1:${busyPort} \\(EADDRINUSE\\)`,
        ),
      },
      {
        args: ['serve', '--port', '0'],
        env: { MEDIAFLOW_EMBEDDED_S3_PORT: busyPort, MEDIAFLOW_LOG_LEVEL: 'warn' },
        code: EXIT.CONFIG,
        stderr: /^mediaflow: CONFIG_INVALID: The embedded S3 server cannot listen on .*EADDRINUSE/,
      },
      {
        args: ['process', 'samples/photo.jpg'],
        env: { MEDIAFLOW_WORKER_CONCURRENCY: 'many' },
        code: EXIT.CONFIG,
        stderr: /^mediaflow: CONFIG_INVALID: .*MEDIAFLOW_WORKER_CONCURRENCY/,
        early: true,
      },
      {
        args: ['jobs', '--api', 'http://127.0.0.1:9'],
        code: EXIT.UNAVAILABLE,
        stderr: /^mediaflow: UNAVAILABLE: Cannot reach the API at http:\/\/127.0.0.1:9/,
      },
      {
        args: ['jobs', '--api', url],
        env: { MEDIAFLOW_API_KEY: 'wrong-key' },
        code: EXIT.AUTH,
        stderr: /^mediaflow: UNAUTHORIZED: /,
      },
      {
        args: ['status', NO_JOB, '--api', url],
        code: EXIT.NOT_FOUND,
        stderr: /^mediaflow: JOB_NOT_FOUND: /,
      },
      {
        args: ['cancel', NO_JOB, '--api', url],
        code: EXIT.NOT_FOUND,
        stderr: /^mediaflow: JOB_NOT_FOUND: /,
      },
      {
        args: ['retry', NO_JOB, '--api', url],
        code: EXIT.NOT_FOUND,
        stderr: /^mediaflow: JOB_NOT_FOUND: /,
      },
      {
        args: ['submit', `${input}/typo.png`, '--wait', '--api', url],
        code: EXIT.NOT_FOUND,
        stderr: new RegExp(`^ignored +${input}/typo.png \\(missing\\)$`),
      },
    ];
    for (const c of cases) {
      const label = c.args.join(' ');
      const canary: Record<string, string> = c.early
        ? { FFMPEG_PATH: path.join(tmp, 'no-ffmpeg') }
        : {};
      const res = await run(c.args, { ...env, ...canary, ...c.env });
      expect({ label, code: res.code, stderr: res.stderr.trim() }).toEqual({
        label,
        code: c.code,
        stderr: expect.stringMatching(c.stderr),
      });
      if (c.stdout) expect(res.stdout, label).toMatch(c.stdout);
      // Human output only: never a pino JSON line, never the whole help after an error.
      expect(res.stderr, label).not.toContain('{"level"');
      const lines = res.stderr.trim() ? res.stderr.trim().split('\n') : [];
      expect(lines.length, label).toBeLessThanOrEqual(c.lines ?? 1);
    }
  }, 240_000);
});
