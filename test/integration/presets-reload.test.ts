import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/mediaflow.js');

/** `mediaflow serve` as users run it, re-reading its presets file on SIGHUP. */
describe('presets reload on SIGHUP', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-reload-'));
  const file = path.join(dir, 'presets.yaml');
  let serve: ChildProcess;
  let api: string;
  let output = '';

  const names = async () =>
    ((await (await fetch(`${api}/v1/presets`)).json()) as { presets: { name: string }[] }).presets
      .map((p) => p.name)
      .filter((n) => n.startsWith('custom-'));
  const waitFor = async (condition: () => Promise<boolean> | boolean, timeoutMs = 30_000) => {
    for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
      if (await condition()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`condition not met; serve said: ${output.slice(-2000)}`);
  };

  beforeAll(async () => {
    fs.writeFileSync(file, 'presets:\n  - name: custom-a\n    kind: image\n');
    serve = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: {
        ...process.env,
        MEDIAFLOW_PRESETS_FILE: file,
        MEDIAFLOW_DATA_DIR: dir,
        MEDIAFLOW_SCRATCH_DIR: path.join(dir, 'scratch'),
        MEDIAFLOW_LOG_LEVEL: 'info',
        MEDIAFLOW_WORKER_CONCURRENCY: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    serve.stdout!.on('data', (d) => (output += d));
    serve.stderr!.on('data', (d) => (output += d));
    // Start-up probes ffmpeg and the sandbox: slow beside other tests on a small machine.
    await waitFor(() => /API and dashboard on/.test(output), 90_000);
    api = /on (http:\/\/[^/\s]+)\//.exec(output)![1]!;
  });
  afterAll(async () => {
    const closed = new Promise((resolve) => serve.on('close', resolve));
    serve.kill('SIGTERM');
    await closed;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('puts a valid new file in force, and keeps the old one for an invalid one', async () => {
    expect(await names()).toEqual(['custom-a']);
    fs.writeFileSync(file, 'presets:\n  - name: custom-b\n    kind: image\n    widths: [64]\n');
    serve.kill('SIGHUP');
    await waitFor(async () => (await names()).join() === 'custom-b');

    fs.writeFileSync(file, 'presets:\n  - name: custom-c\n    kind: image\n    widths: [1]\n');
    serve.kill('SIGHUP');
    await waitFor(() => output.includes('presets reload failed'));
    expect(output).toContain(
      'presets reload failed, the previous presets stay: Invalid presets file ' +
        `${file} (MEDIAFLOW_PRESETS_FILE): Expected a number >= 16 for presets[0].widths[0] ` +
        'but received 1 (line 4)',
    );
    expect(await names()).toEqual(['custom-b']);
    expect(serve.exitCode).toBe(null);
  });
});
