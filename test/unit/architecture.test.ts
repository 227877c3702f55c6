import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every TypeScript source of the product (not tests or benchmarks), with its import specifiers. */
function sources(): Map<string, string[]> {
  const files = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(full, 'utf8');
        const specifiers = [
          ...text.matchAll(
            /^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm,
          ),
        ].map((m) => (m[1] ?? m[2])!);
        files.set(path.relative('.', full), specifiers);
      }
    }
  };
  walk('functions');
  walk('pipeline');
  return files;
}

const graph = sources();
const importers = (pattern: RegExp) =>
  [...graph]
    .filter(([, specs]) => specs.some((s) => pattern.test(s)))
    .map(([file]) => file)
    .sort();

describe('architecture', () => {
  it('functions/ never imports pipeline/ (the arrow points one way)', () => {
    const offenders = [...graph]
      .filter(
        ([file, specs]) =>
          file.startsWith('functions/') && specs.some((s) => s.includes('pipeline/')),
      )
      .map(([f]) => f);
    expect(offenders).toEqual([]);
  });

  it('keeps each outside system behind its one adapter', () => {
    expect(importers(/^@aws-sdk\//)).toEqual(['pipeline/storage/s3-store.ts']);
    expect(importers(/^bullmq$/)).toEqual([
      'pipeline/runner/bullmq-consumer.ts',
      'pipeline/runner/bullmq-schedules.ts',
      'pipeline/runner/bullmq.ts',
    ]);
    expect(importers(/^amqplib$/)).toEqual(['pipeline/triggers/amqp-consumer.ts']);
    expect(importers(/^nats$/)).toEqual(['pipeline/triggers/nats-consumer.ts']);
    expect(importers(/^mqtt$/)).toEqual(['pipeline/triggers/mqtt-consumer.ts']);
    expect(importers(/^s3rver$/)).toEqual(['pipeline/storage/embedded-s3.ts']);
    // Only the process module spawns media processes (the orphan reaper only reads /proc and
    // signals).
    expect(importers(/^node:child_process$/)).toEqual(['functions/ffmpeg/run-process.ts']);
  });

  it('has no circular imports', () => {
    const resolve = (from: string, spec: string) =>
      spec.startsWith('.')
        ? path.normalize(path.join(path.dirname(from), spec)).replace(/\.js$/, '.ts')
        : null;
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting')
        return void cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
      state.set(file, 'visiting');
      for (const spec of graph.get(file) ?? []) {
        const target = resolve(file, spec);
        if (target && graph.has(target)) visit(target, [...trail, file]);
      }
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('throws MediaflowErrors, not plain Errors (a plain Error becomes a retried INTERNAL)', () => {
    // RangeError stays for a pure function's preconditions (a caller's bug, which plans rule out).
    // BullMQ records a failure as an Error's message; the worker encodes the MediaflowError's
    // record into it, and the parent decodes it back.
    const allowed = new Set(['pipeline/runner/bullmq-consumer.ts']);
    const offenders = [...graph.keys()]
      .filter((file) => !allowed.has(file))
      .flatMap((file) =>
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
          .filter(({ line }) => /\bthrow new Error\(/.test(line))
          .map(({ at }) => at),
      );
    expect(offenders).toEqual([]);
  });
});
