import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findOnPath } from '../../functions/ffmpeg/binaries.js';

/**
 * Start-up facts about ffmpeg are found out once and kept on disk (issue 13, warm starts): a
 * fresh process with the same binaries runs ffmpeg not at all, and a changed binary or a broken
 * cache file is found out anew. The binaries are the host's real ones behind wrappers that count
 * their runs.
 */
describe('the media tool cache', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-tool-cache-'));
  const bin = path.join(dir, 'bin');
  const cacheDir = path.join(dir, 'cache');
  const runs = path.join(dir, 'runs.log');

  beforeAll(() => {
    fs.mkdirSync(bin);
    for (const tool of ['ffmpeg', 'ffprobe', 'bwrap']) {
      const real = findOnPath(tool, process.env.PATH ?? '');
      if (!real) throw new Error(`no ${tool} on PATH (.ci/run installs it)`);
      const wrapper = path.join(bin, tool);
      fs.writeFileSync(wrapper, `#!/bin/sh\necho "${tool} $*" >> ${runs}\nexec ${real} "$@"\n`);
      fs.chmodSync(wrapper, 0o755);
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Resolves and probes as a new process would: the modules' in-memory caches start empty. */
  async function startUp() {
    vi.resetModules();
    const { resolveBinaries } = await import('../../functions/ffmpeg/binaries.js');
    const { probeCapabilities } = await import('../../functions/ffmpeg/capabilities.js');
    const { resolveConfinement } = await import('../../functions/ffmpeg/confine.js');
    fs.rmSync(runs, { force: true });
    const binaries = await resolveBinaries({ searchPath: bin, cacheDir });
    const caps = await probeCapabilities(binaries);
    const { sandboxProblem } = await resolveConfinement(binaries, {
      sandbox: 'auto',
      limits: { addressSpaceBytes: 2 ** 32, cpuSeconds: 60, fileSizeBytes: 2 ** 30 },
      searchPath: bin,
    });
    const ran = fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n') : [];
    return { binaries, caps, sandboxProblem, ran };
  }

  it('finds out once, then starts without running ffmpeg', async () => {
    const first = await startUp();
    expect(first.ran.length).toBeGreaterThanOrEqual(8);
    expect(first.binaries.ffmpeg).toBe(path.join(bin, 'ffmpeg'));
    expect(first.caps.encoders.has('libx264')).toBe(true);

    const second = await startUp();
    expect(second.ran).toEqual([]);
    expect(second.binaries.versions).toEqual(first.binaries.versions);
    expect([...second.caps.encoders].sort()).toEqual([...first.caps.encoders].sort());
    expect([...second.caps.filters].sort()).toEqual([...first.caps.filters].sort());
    expect([...second.caps.hwDevices]).toEqual([...first.caps.hwDevices]);
    expect(second.caps.decoderCodecs).toEqual(first.caps.decoderCodecs);
    expect(second.sandboxProblem).toEqual(first.sandboxProblem);
  });

  it('keeps a working sandbox, and tries a failed one again at the next start', async () => {
    const first = await startUp();
    const again = await startUp();
    const bwrapRuns = again.ran.filter((line) => line.startsWith('bwrap '));
    if (first.sandboxProblem) expect(bwrapRuns.length).toBeGreaterThan(0);
    else expect(bwrapRuns).toEqual([]);
  });

  it('finds out anew when a binary changes', async () => {
    await startUp();
    const wrapper = path.join(bin, 'ffmpeg');
    fs.appendFileSync(wrapper, '# upgraded\n');
    const after = await startUp();
    expect(after.ran.some((line) => line.startsWith('ffmpeg -hide_banner -version'))).toBe(true);
    expect(after.ran.some((line) => line.startsWith('ffmpeg -hide_banner -encoders'))).toBe(true);
  });

  it('treats an unreadable cache as no cache', async () => {
    await startUp();
    for (const file of fs.readdirSync(cacheDir))
      fs.writeFileSync(path.join(cacheDir, file), '{"key": 1, "val');
    const after = await startUp();
    expect(after.ran.length).toBeGreaterThanOrEqual(8);
    expect(after.caps.encoders.has('libx264')).toBe(true);
    expect((await startUp()).ran).toEqual([]);
  });
});
