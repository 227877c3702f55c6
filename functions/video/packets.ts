import type { FunctionContext } from '../context.js';
import { probePacketsArgs } from '../ffmpeg/args/probe.js';
import { runFfprobe } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';

/** One video packet, in decode order. Times in seconds as ffprobe reports them (not rebased). */
export interface VideoPacket {
  pts: number | null;
  dts: number | null;
  duration: number | null;
  keyframe: boolean;
}

/**
 * Parses `pts_time,dts_time,duration_time,flags` CSV lines (ffprobe's `-show_entries packet=...`).
 */
export function parsePacketCsv(text: string): VideoPacket[] {
  const packets: VideoPacket[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(',');
    if (fields.length < 4) continue;
    const [pts, dts, duration, flags] = fields as [string, string, string, string];
    packets.push({
      pts: toNumber(pts),
      dts: toNumber(dts),
      duration: toNumber(duration),
      keyframe: flags.startsWith('K'),
    });
  }
  return packets;
}

function toNumber(text: string): number | null {
  if (text === '' || text === 'N/A') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * Keyframes after which no packet shows an earlier pts before the next keyframe: the points where
 * a stream can be cut and each piece decoded on its own (a closed GOP). An open-GOP keyframe has
 * leading pictures that reference the previous GOP, so cutting there would lose frames.
 */
export function closedKeyframeTimes(packets: readonly VideoPacket[]): number[] {
  const times: number[] = [];
  let current: number | null = null;
  let open = false;
  const flush = () => {
    if (current !== null && !open) times.push(current);
  };
  for (const packet of packets) {
    if (packet.keyframe && packet.pts !== null) {
      flush();
      current = packet.pts;
      open = false;
    } else if (current !== null && packet.pts !== null && packet.pts < current) {
      open = true;
    }
  }
  flush();
  return times.sort((a, b) => a - b);
}

/** Every keyframe time, in presentation order. */
export function keyframeTimes(packets: readonly VideoPacket[]): number[] {
  return packets
    .filter((p) => p.keyframe && p.pts !== null)
    .map((p) => p.pts!)
    .sort((a, b) => a - b);
}

/**
 * Reads the packet list of the first video stream, or its first `maxPackets` (demuxing only; a
 * few seconds per GB).
 */
export async function scanVideoPackets(
  file: string,
  demuxer: string,
  tools: MediaTools,
  ctx: FunctionContext,
  maxPackets?: number,
): Promise<VideoPacket[]> {
  const { stdout } = await runFfprobe(tools, probePacketsArgs(file, demuxer, maxPackets), ctx, {
    label: 'packets',
    maxStdoutBytes: 256 * 1024 * 1024,
  });
  return parsePacketCsv(stdout);
}
