import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveBinaries } from '../../functions/ffmpeg/binaries.js';

const CLI = path.resolve('bin/mediaflow.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function mediaflow(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: {
      ...process.env,
      MEDIAFLOW_DATA_DIR: path.join(tmp, 'data'),
      MEDIAFLOW_SCRATCH_DIR: path.join(tmp, 'scratch'),
      ...env,
    },
  });
}

describe('mediaflow CLI', () => {
  it('describes every command in --help', () => {
    const run = mediaflow(['--help']);
    expect(run.status).toBe(0);
    for (const command of ['demo', 'process']) expect(run.stdout).toContain(command);
  });

  it('--version names the ffmpeg/ffprobe in use; an outdated one fails with how to fix it', () => {
    const run = mediaflow(['--version']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^mediaflow \d+\.\d+\.\d+\n/);
    expect(run.stdout).toMatch(/^ffmpeg \S+ \(libavcodec \d+\.\d+\.\d+\) \[system: \/\S+\]$/m);
    expect(run.stdout).toMatch(/^ffprobe \S+ \(libavcodec [\d.]+\) \[system: /m);
    // Only the bundled 2018 ffmpeg left (no PATH): refused at start, exit 4 (unavailable).
    const old = mediaflow(['--version'], { PATH: '' });
    expect(old.status).toBe(4);
    expect(old.stderr).toMatch(/^mediaflow: BINARY_OUTDATED: ffmpeg at .*apt-get install ffmpeg/);
  });

  it(
    'process --json leaves playable outputs and a manifest per input, and reports failures by ' +
      'code',
    async () => {
      const out = path.join(tmp, 'out');
      const bogus = path.join(tmp, 'notes.mp4');
      fs.writeFileSync(bogus, 'this is not a video\n');
      const run = mediaflow([
        'process',
        'samples/portrait.mp4',
        'samples/tone.mp3',
        bogus,
        '--out',
        out,
        '--json',
      ]);
      expect(run.status, run.stderr).toBe(1);
      const report = JSON.parse(run.stdout) as {
        inputs: {
          input: string;
          status: string;
          jobId?: string;
          outputs?: { file: string; role: string }[];
          error?: { code: string };
        }[];
      };
      const byName = Object.fromEntries(report.inputs.map((r) => [path.basename(r.input), r]));
      expect(byName['portrait.mp4']).toMatchObject({
        status: 'succeeded',
        jobId: expect.stringMatching(/^j[0-9a-f]{24}$/),
      });
      expect(byName['tone.mp3']!.status).toBe('succeeded');
      expect(byName['notes.mp4']).toMatchObject({
        status: 'failed',
        error: { code: 'MEDIA_UNSUPPORTED' },
      });

      const dir = path.join(out, 'portrait.mp4');
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      expect(manifest.jobId).toBe(byName['portrait.mp4']!.jobId);
      // Keys end in <preset>/<job id>/ (versioned outputs); process copies what follows it.
      const own = `/video/${manifest.jobId}/`;
      for (const o of manifest.outputs)
        expect(fs.statSync(path.join(dir, o.key.slice(o.key.indexOf(own) + own.length))).size).toBe(
          o.bytes,
        );

      const { ffmpeg } = await resolveBinaries();
      const mp4 = path.join(dir, 'mp4', '360p.mp4');
      const decode = spawnSync(ffmpeg, ['-v', 'error', '-i', mp4, '-f', 'null', '-'], {
        encoding: 'utf8',
      });
      expect(decode.status).toBe(0);
      expect(decode.stderr).toBe('');
      expect(fs.existsSync(path.join(dir, 'hls', 'master.m3u8'))).toBe(true);
      expect(fs.readdirSync(path.join(out, 'tone.mp3')).sort()).toEqual([
        'audio.m4a',
        'audio.mp3',
        'audio.opus',
        'manifest.json',
      ]);
    },
  );

  it(
    'process refuses a missing path, a directory and a second input with the same file ' +
      'name before any work starts, naming each in one line',
    () => {
      const dup = path.join(tmp, 'dup', 'photo.jpg');
      fs.mkdirSync(path.dirname(dup), { recursive: true });
      fs.writeFileSync(dup, fs.readFileSync('samples/photo.jpg').subarray(0, 5000));
      const missing = path.join(tmp, 'no-such.jpg');
      const run = mediaflow([
        'process',
        'samples/photo.jpg',
        dup,
        missing,
        path.dirname(dup),
        '--out',
        path.join(tmp, 'out-inputs'),
        '--json',
      ]);
      // A usage error (exit 2), not a failed job: nothing was uploaded, so the first photo.jpg is
      // not processed either (it used to be, with the others reported as failed jobs).
      expect(run.status, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([
        `mediaflow: REQUEST_INVALID: Expected readable files: photo.jpg given twice (outputs go ` +
          `to <out>/photo.jpg/; rename one); no file ${missing}; ` +
          `${path.dirname(dup)} is a directory`,
      ]);
      expect(fs.existsSync(path.join(tmp, 'out-inputs'))).toBe(false);
    },
  );

  it('names a bad configuration variable and exits 3', () => {
    const run = mediaflow(['process', 'samples/photo.jpg'], {
      MEDIAFLOW_WORKER_CONCURRENCY: 'many',
    });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/CONFIG_INVALID: .*MEDIAFLOW_WORKER_CONCURRENCY/);
  });

  it('demo: uploads the samples, lets upload events trigger the jobs, and exits 0', () => {
    const run = mediaflow(['demo']);
    expect(run.status, run.stderr).toBe(0);
    for (const sample of ['landscape.mp4', 'portrait.mp4', 'photo.jpg', 'tone.mp3'])
      expect(run.stdout).toMatch(new RegExp(`samples/${sample.replace('.', '\\.')} -> succeeded`));
    // Each job's own folder: <input bucket>/<key>/<preset>/<job id>/.
    const master = new RegExp(
      's3://mediaflow-output/mediaflow-input/samples/landscape\\.mp4/video/j[0-9a-f]{24}/' +
        'hls/master\\.m3u8',
    );
    expect(run.stdout).toMatch(master);
    // It says where the store is, how to log in to it, and how to look at the results.
    expect(run.stderr).toMatch(
      /embedded S3 at http:\/\/127\.0\.0\.1:\d+ \(access key S3RVER, secret/,
    );
    expect(run.stdout.trim().split('\n').at(-1)).toBe(
      'browse the results: npx mediaflow serve -> http://127.0.0.1:8080/',
    );
  });
});
