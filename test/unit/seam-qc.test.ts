import { describe, expect, it } from 'vitest';
import { checkJoins, meanSsim, SEAM_SSIM_STEP } from '../../functions/video/seam-qc.js';

const frames = (count: number, fps = 10, from = 0) =>
  Array.from({ length: count }, (_, i) => ({
    pts: from + i / fps,
    dts: null,
    duration: null,
    keyframe: i % 10 === 0,
  }));
const piece = (frameCount: number, head = 0.95, tail = 0.95) => ({
  duration: frameCount / 10,
  frameCount,
  ends: { head, tail },
});

describe('seam QC', () => {
  it('passes joins one frame wide with the pieces frame count, and records each', () => {
    const { seams, problem } = checkJoins(frames(50, 10, 1.4), [piece(20), piece(30)]);
    expect(problem).toBeNull();
    expect(seams).toEqual([
      { join: 1, at: 2, gapFrames: 1, ssimBefore: 0.95, ssimAfter: 0.95, ok: true },
    ]);
  });

  it('fails a lost or doubled frame at a join', () => {
    const lost = frames(50).filter((_, i) => i !== 20);
    expect(checkJoins(lost, [piece(20), piece(30)]).problem).toBe('49 frames, the pieces hold 50');
    const shifted = [...frames(20), ...frames(30, 10, 2.2)];
    const result = checkJoins(shifted, [piece(20), piece(30)]);
    expect(result.problem).toBe('join 1 at 2.000 s: 3.00 frame intervals');
    expect(result.seams[0]!.ok).toBe(false);
  });

  it('marks a join whose quality steps by more than the bound', () => {
    const step = checkJoins(frames(40), [piece(20, 0.95, 0.95), piece(20, 0.95 - 0.03)]);
    expect(step.problem).toBeNull();
    expect(SEAM_SSIM_STEP).toBeLessThan(0.03);
    expect(step.seams[0]!.ok).toBe(false);
  });

  it('averages ffmpeg ssim stats lines', () => {
    const stats =
      'n:1 Y:0.9 U:0.9 V:0.9 All:0.900000 (10.0)\nn:2 Y:1 U:1 V:1 All:0.950000 (13.0)\n';
    expect(meanSsim(stats)).toBeCloseTo(0.925, 9);
    expect(meanSsim('')).toBeNaN();
  });
});
