import { describe, expect, it } from 'vitest';
import { transcodeLadderArgs } from '../../functions/ffmpeg/args/transcode-ladder.js';
import {
  dropPrerollOutput,
  leadInStart,
  prerollChain,
  prerollFrames,
  prerollSeconds,
} from '../../functions/video/seam-preroll.js';

const rate = { num: 30, den: 1 };
const preroll = { file: '/s/lead.nut', format: 'nut', skipFrames: 30, frames: 30 };

describe('seam pre-roll', () => {
  it('starts the lead-in at the last keyframe at least the pre-roll before the end', () => {
    expect(leadInStart([0, 2, 4], 6, 1)).toBe(4);
    expect(leadInStart([0, 2, 4], 6, 2)).toBe(4);
    expect(leadInStart([0, 2, 4], 6, 2.5)).toBe(2);
    // A long GOP: the whole previous piece.
    expect(leadInStart([0], 6, 1)).toBe(0);
    expect(leadInStart([0, 2], 6, 0)).toBeNull();
  });

  it('encodes the pre-roll length in frames, within the lead-in', () => {
    expect(prerollFrames(60, 1, 30)).toBe(30);
    expect(prerollFrames(12, 1, 30)).toBe(12);
    expect(prerollFrames(60, 0.01, 30)).toBe(1);
  });

  it('puts the pre-roll on the frame grid, the piece right after it', () => {
    expect(prerollChain(preroll, rate)).toBe('trim=start_frame=30:end_frame=60,setpts=N*1/(30*TB)');
    expect(prerollSeconds(preroll, { num: 30000, den: 1001 })).toBeCloseTo(1.001, 9);
    expect(() => prerollChain({ ...preroll, frames: 0 }, rate)).toThrow(
      'Expected a positive integer for frames but received 0',
    );
  });

  it('drops the pre-roll with the segment muxer at the keyframe forced on the piece', () => {
    expect(dropPrerollOutput(0.983333, 'file:/s/a-%d.mp4')).toEqual([
      '-f',
      'segment',
      '-segment_format',
      'mp4',
      '-segment_times',
      '0.983333',
      '-reset_timestamps',
      '1',
      'file:/s/a-%d.mp4',
    ]);
  });

  it('builds one encode of pre-roll then piece: concat, shifted keyframes, x264 warm start', () => {
    const args = transcodeLadderArgs(
      {
        input: { file: '/s/seg.nut', format: 'nut' },
        rotate: 'explicit',
        rotation: 90,
        outputs: [
          { width: 640, height: 360, maxBitrate: 8e5, bufferBits: 1.6e6, file: '/s/a-%d.mp4' },
        ],
        forceKeyframesAt: [2],
        encoder: { preset: 'veryfast', crf: 23, gopFrames: 60 },
        timing: { rate },
        preroll,
      },
      30,
    );
    const graph = args[args.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('[1:v:0]trim=start_frame=30:end_frame=60');
    expect(graph).toContain('[pre][cur]concat=n=2:v=1:a=0,transpose=clock[b0]');
    expect(args).toContain('file:/s/lead.nut');
    // The piece's first frame (1 s in) and its HLS boundary (2 s into the piece).
    expect(args[args.indexOf('-force_key_frames') + 1]).toBe('0.999,2.999');
    expect(args[args.indexOf('-x264-params') + 1]).toBe('vbv-init=0.4');
    expect(args[args.indexOf('-segment_times') + 1]).toBe('0.983333');
  });

  it('leaves a resampled (variable-rate) piece without pre-roll', () => {
    const args = transcodeLadderArgs(
      {
        input: { file: '/s/seg.nut', format: 'nut' },
        rotate: 'explicit',
        rotation: 0,
        outputs: [{ width: 64, height: 36, maxBitrate: 8e5, bufferBits: 1.6e6, file: '/s/a.mp4' }],
        forceKeyframesAt: [],
        encoder: { preset: 'veryfast', crf: 23, gopFrames: 60 },
        timing: { rate, resample: { offset: 0, frames: 90 } },
        preroll,
      },
      30,
    );
    expect(args).not.toContain('file:/s/lead.nut');
    expect(args).not.toContain('segment');
  });
});
