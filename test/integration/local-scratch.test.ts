import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDeadScratch, taskScratchPrefix } from '../../pipeline/tasks/local-scratch.js';

describe('local scratch of a dead worker', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-dead-scratch-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("removes the task folders of a kill -9'd process, and only those", async () => {
    // A real process that owns a task folder, then dies without cleaning up.
    const victim = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    const dead = fs.mkdtempSync(
      path.join(root, taskScratchPrefix('j1', 'transcode-003', victim.pid)),
    );
    fs.writeFileSync(path.join(dead, 'segment.mp4'), 'partial');
    const mine = fs.mkdtempSync(path.join(root, taskScratchPrefix('j2', 'probe')));
    fs.mkdirSync(path.join(root, 'not-a-task-folder'));
    // Alive: nothing goes.
    expect(removeDeadScratch(root)).toEqual([]);
    victim.kill('SIGKILL');
    await once(victim, 'exit');
    expect(removeDeadScratch(root)).toEqual([path.basename(dead)]);
    expect(fs.readdirSync(root).sort()).toEqual([path.basename(mine), 'not-a-task-folder'].sort());
    expect(removeDeadScratch(path.join(root, 'missing'))).toEqual([]);
  });
});
