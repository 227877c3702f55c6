import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, type Bench, type Row } from './harness.js';

/**
 * `npm run bench [name...]`: runs every `bench/*.bench.ts` (or the named ones) one after the
 * other, never in parallel, since they measure the same two cores, and prints one table.
 */
const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const rows: (Row & { bench: string })[] = [];
for (const file of files) {
  const bench = file.replace(/\.bench\.ts$/, '');
  process.stderr.write(`bench: ${bench} ...\n`);
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { default: Bench };
  try {
    for (const row of await mod.default()) rows.push({ bench, ...row });
  } catch (error) {
    rows.push({ bench, name: 'FAILED', value: NaN, unit: '', note: (error as Error).message });
  }
}
process.stdout.write(formatTable(rows) + '\n');
