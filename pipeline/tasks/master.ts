import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { buildMasterPlaylist } from '../../functions/video/master-playlist.js';
import { defineHandler } from './handler.js';
import { videoPreset } from './video-preset.js';

const variantSchema = z.object({
  name: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bandwidth: z.number().positive(),
  averageBandwidth: z.number().positive(),
  codecs: z.string(),
  frameRate: z.number().nonnegative(),
  uri: z.string(),
});

/**
 * Writes the HLS master playlist over every rendition (in code: the bundled ffmpeg's own crashes).
 */
export const masterHandler = defineHandler({
  kind: 'master',
  params: z.object({ variants: z.array(variantSchema).min(1) }),
  async run({ variants }, io) {
    if (!videoPreset(io).hls) return { outputs: [] };
    const text = buildMasterPlaylist(
      variants.map((v) => ({ ...v, frameRate: v.frameRate || null })),
    );
    const file = path.join(io.ctx.scratchDir, 'master.m3u8');
    await fs.writeFile(file, text);
    return { outputs: [await io.putOutput('hls/master.m3u8', file, { role: 'hls-master' })] };
  },
});
