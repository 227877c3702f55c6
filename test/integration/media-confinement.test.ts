import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietContext } from '../../functions/context.js';
import { MediaflowError } from '../../functions/errors.js';
import { runFfmpeg } from '../../functions/ffmpeg/run-tool.js';
import type { MediaTools } from '../../functions/ffmpeg/tools.js';
import { probe } from '../../functions/video/probe.js';
import { ffmpeg, tempDir, TEST_LIMITS, testTools } from '../helpers/video-fixtures.js';

/**
 * Untrusted uploads meet ffmpeg here, so a decoder bug must find nothing to take: no codec outside
 * the allow-list is decoded, no secret is in the environment, and in the sandbox there is no
 * network and no file but the inputs and the task's scratch. Every target is on loopback.
 */
let dir: string;
let scratch: string;
let tools: MediaTools;
const sandboxed = () => tools.confinement?.bwrap !== undefined;

beforeAll(async () => {
  tools = await testTools();
  dir = await tempDir('confinement');
  scratch = path.join(dir, 'scratch');
  await fs.mkdir(scratch);
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<MediaflowError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MediaflowError) return error;
    throw error;
  }
  throw new Error('expected the media process to fail');
}

describe('codec allow-list', () => {
  it('refuses MagicYUV in AVI (an allowed container): MEDIA_UNSUPPORTED, undecoded', async () => {
    const file = path.join(dir, 'magic.avi');
    ffmpeg(tools.binaries, [
      ...['-f', 'lavfi', '-i', 'testsrc2=s=64x64:r=10:d=1', '-c:v', 'magicyuv', file],
    ]);
    const error = await failure(probe(file, { tools, limits: TEST_LIMITS }, quietContext(scratch)));
    expect(error.code).toBe('MEDIA_UNSUPPORTED');
    expect(error.message).toBe("The source's codec magicyuv is not allowed.");
    // ffmpeg itself refuses the decoder too, whatever the caller asked for.
    const decode = await failure(
      runFfmpeg(tools, ['-i', `file:${file}`, '-f', 'null', '-'], quietContext(scratch), {
        label: 'decode',
      }),
    );
    expect(decode.stderrTail).toMatch(/Codec \(magicyuv\) not on whitelist/);
  });
});

describe('media process environment', () => {
  const SECRETS = {
    MEDIAFLOW_S3_SECRET_ACCESS_KEY: 's3-secret-7f3a',
    MEDIAFLOW_API_KEYS: 'alice:key-a-91c2',
    MEDIAFLOW_WEBHOOK_TOKEN: 'webhook-token-55d0e1',
    MEDIAFLOW_NOTIFY_SECRET: 'notify-secret-0b7c',
    REDIS_URL: 'redis://:redis-pass-3e9a@127.0.0.1:6379',
  };
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [name, value] of Object.entries(SECRETS)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved))
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  it('holds no secret: PATH, HOME, TMPDIR, PWD, LC_ALL and the tools own only', async () => {
    // The real path (run-tool -> confinement -> spawn), with `env` standing in for ffmpeg.
    const envTools = {
      ...tools,
      binaries: { ...tools.binaries, ffmpeg: '/usr/bin/env' },
      decoderWhitelist: undefined,
    };
    const { stdout } = await runFfmpeg(envTools, [], quietContext(scratch), { label: 'env' });
    const names = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(0, line.indexOf('=')));
    for (const value of Object.values(SECRETS)) expect(stdout).not.toContain(value);
    expect(new Set(names)).toEqual(
      new Set(['PATH', 'HOME', 'TMPDIR', 'PWD', 'LC_ALL', ...Object.keys(tools.binaries.env)]),
    );
    expect(stdout).toContain(`HOME=${scratch}\n`);
  });
});

describe('sandbox', () => {
  it('is on where the host allows it (bubblewrap installed by .ci/run)', () => {
    if (!sandboxed()) console.warn('[media-confinement] SKIPPED: bwrap does not work here');
    expect(tools.confinement?.prlimit).toBeDefined();
  });

  it('blocks a network connection, even to loopback', async () => {
    const connections: net.Socket[] = [];
    const server = net.createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const connect = (t: MediaTools) =>
      failure(
        runFfmpeg(
          t,
          ['-rw_timeout', '3000000', '-i', `tcp://127.0.0.1:${port}`, '-f', 'null', '-'],
          quietContext(scratch),
          { label: 'connect' },
        ),
      );
    try {
      // Control: unconfined, the same command reaches the listener.
      await connect({ ...tools, confinement: undefined });
      expect(connections.length).toBe(1);
      if (!sandboxed()) return;
      const error = await connect(tools);
      expect(error.stderrTail).toMatch(/Connection refused|Network is unreachable|Cannot assign/i);
      expect(connections.length).toBe(1);
    } finally {
      server.close();
    }
  });

  it('blocks a read outside scratch (a filter naming a host file)', async () => {
    const secret = path.join(dir, 'outside', 'secret.txt');
    await fs.mkdir(path.dirname(secret));
    await fs.writeFile(secret, 'top secret\n');
    const read = (t: MediaTools) =>
      runFfmpeg(
        t,
        [
          ...['-f', 'lavfi', '-i', 'color=s=32x32:d=0.1'],
          ...['-vf', `drawtext=textfile=${secret}`, '-f', 'null', '-'],
        ],
        quietContext(scratch),
        { label: 'read' },
      );
    await read({ ...tools, confinement: undefined }); // control: readable unconfined
    if (!sandboxed()) return;
    const error = await failure(read(tools));
    expect(error.stderrTail).toMatch(/No such file or directory/);
  });

  it('lets a process write to the host only in scratch', async () => {
    if (!sandboxed()) return;
    const outside = path.join(dir, 'outside-out.mp4');
    const write = (file: string) =>
      runFfmpeg(
        tools,
        ['-f', 'lavfi', '-i', 'color=s=32x32:d=0.1', '-c:v', 'mjpeg', '-y', file],
        quietContext(scratch),
        { label: 'write' },
      );
    await write(path.join(scratch, 'inside.avi'));
    expect((await fs.stat(path.join(scratch, 'inside.avi'))).size).toBeGreaterThan(0);
    // Outside scratch the write fails or lands in the sandbox's throwaway /tmp: never the host.
    await write(outside).catch(() => undefined);
    await expect(fs.stat(outside)).rejects.toThrow(/ENOENT/);
  });
});

describe('resource limits', () => {
  it('ends a process that writes past the file size limit with MEDIA_LIMIT_EXCEEDED', async () => {
    const limited: MediaTools = {
      ...tools,
      confinement: {
        ...tools.confinement!,
        limits: { ...tools.confinement!.limits, fileSizeBytes: 200_000 },
      },
    };
    const error = await failure(
      runFfmpeg(
        limited,
        [
          ...['-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=2', '-c:v', 'rawvideo'],
          ...['-f', 'nut', '-y', path.join(scratch, 'big.nut')],
        ],
        quietContext(scratch),
        { label: 'big write' },
      ),
    );
    expect(error.code).toBe('MEDIA_LIMIT_EXCEEDED');
    expect(error.message).toMatch(/: a file it wrote reached the file size limit\.$/);
  });
});
