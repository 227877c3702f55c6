#!/usr/bin/env node
// Fails when a tracked TypeScript or JavaScript line is wider than Biome's lineWidth. The
// formatter wraps code but cannot split a long string, regex or comment; this catches those.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const WIDTH = 100;
const files = execFileSync('git', ['ls-files', '-z', '*.ts', '*.js'], { encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && fs.existsSync(f));
let wide = 0;
for (const file of files) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.length <= WIDTH) continue;
    wide++;
    console.error(`${file}:${i + 1}: ${line.length} columns (the limit is ${WIDTH})`);
  }
}
if (wide > 0) process.exit(1);
