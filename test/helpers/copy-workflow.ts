import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { MediaflowError } from '../../functions/errors.js';
import type { Workflow } from '../../pipeline/plan/types.js';
import { defineHandler, type AnyTaskHandler } from '../../pipeline/tasks/handler.js';

/**
 * A media-free workflow for testing the platform (orchestrator, runners, triggers, API) with real
 * storage: `inspect` copies the source to scratch, then `part-N` tasks each write one output.
 * The source's first line steers it: `FAIL` fails part-1 permanently, `FLAKY` fails part-0 once
 * with a retryable error (INTERNAL), `SLOW <ms>` makes parts take that long, `OUTAGE <n>` fails
 * part-0 n times with STORAGE_UNAVAILABLE (an outage longer than the task's attempts).
 */
export const copyWorkflow: Workflow = {
  kind: 'image',
  stageWeights: [1, 3],
  next(_job, done) {
    const inspect = done['inspect'] as { parts: number } | undefined;
    if (!inspect) return [{ id: 'inspect', kind: 'inspect', params: {} }];
    const parts = Array.from({ length: inspect.parts }, (_, i) => `part-${i}`);
    if (parts.some((id) => !done[id]))
      return parts.map((id, i) => ({ id, kind: 'part', params: { index: i } }));
    return [];
  },
};

const flaky = new Set<string>();
const outages = new Map<string, number>();

export const copyHandlers: ReadonlyMap<string, AnyTaskHandler> = new Map<string, AnyTaskHandler>([
  [
    'inspect',
    defineHandler({
      kind: 'inspect',
      params: z.object({}),
      async run(_p, io) {
        const file = await io.fetchSource();
        await io.putScratch('source.bin', file);
        return { parts: 3 };
      },
    }),
  ],
  [
    'part',
    defineHandler({
      kind: 'part',
      params: z.object({ index: z.number().int() }),
      async run({ index }, io) {
        const file = await io.fetchScratch('source.bin');
        const text = fs.readFileSync(file, 'utf8');
        const slow = /^SLOW (\d+)/.exec(text);
        if (slow) await sleep(Number(slow[1]), undefined, { signal: io.ctx.signal });
        if (text.startsWith('FAIL') && index === 1)
          throw new MediaflowError('MEDIA_UNREADABLE', 'part 1 cannot be read');
        const outage = /^OUTAGE (\d+)/.exec(text);
        if (outage && index === 0 && (outages.get(io.job.id) ?? 0) < Number(outage[1])) {
          outages.set(io.job.id, (outages.get(io.job.id) ?? 0) + 1);
          throw new MediaflowError('STORAGE_UNAVAILABLE', 'storage is away (injected)');
        }
        if (text.startsWith('FLAKY') && index === 0 && !flaky.has(io.job.id)) {
          flaky.add(io.job.id);
          // Retryable but not an outage (those are waited out without spending attempts).
          throw new MediaflowError('INTERNAL', 'transient');
        }
        const out = path.join(io.ctx.scratchDir, `part-${index}.txt`);
        fs.writeFileSync(out, `${index}:${text}`);
        io.ctx.onProgress(1);
        return { outputs: [await io.putOutput(`part-${index}.txt`, out, { role: 'part' })] };
      },
    }),
  ],
]);
