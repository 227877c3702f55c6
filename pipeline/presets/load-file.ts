import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Yaml from 'yaml';
import type { z } from 'zod';
import { MediaflowError } from '../../functions/errors.js';
import { describeIssue } from '../../functions/image/validation-message.js';
import { BUILTIN_PRESETS } from './builtin.js';
import { mergePresets, type PresetCatalog } from './catalog.js';
import { presetsFileSchema, type PresetsFile } from './file-schema.js';
import { shadowingWarnings } from './routes.js';

type Path = (string | number)[];
interface Problem {
  path: Path;
  message: string;
}

/**
 * Reads and validates a presets file (YAML, or JSON by its `.json` extension) into a catalog.
 * Every problem is reported at once as CONFIG_INVALID, naming the file, the path inside it
 * (`presets[2].ladder[0]`) and the line, so one edit-and-retry fixes them all.
 */
export function loadPresetsFile(file: string): PresetCatalog {
  const where = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(where, 'utf8');
  } catch (error) {
    throw invalid(where, [`cannot read it: ${(error as Error).message}`]);
  }
  // Required here, not imported at the top: only a process with a presets file pays for loading
  // the YAML parser (a part of every cold start otherwise).
  const { isNode, LineCounter, parseDocument } = createRequire(import.meta.url)(
    'yaml',
  ) as typeof Yaml;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (at: Path): number | undefined => {
    for (let p = at; ; p = p.slice(0, -1)) {
      const node = doc.getIn(p, true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
      if (p.length === 0) return undefined;
    }
  };

  let data: unknown;
  if (/\.json$/i.test(where)) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw invalid(where, [`not valid JSON: ${(error as Error).message}`]);
    }
  } else {
    if (doc.errors.length > 0)
      throw invalid(
        where,
        doc.errors.map(
          (e) =>
            `not valid YAML: ${e.message.split('\n')[0]} (line ${lines.linePos(e.pos[0]).line})`,
        ),
      );
    data = doc.toJS() ?? {};
  }

  const parsed = presetsFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success)
    throw invalid(
      where,
      parsed.error.issues.map((i) => explain(i, lineOf)),
    );
  const problems = crossReferences(parsed.data);
  if (problems.length)
    throw invalid(
      where,
      problems.map((p) => `${p.message} (line ${lineOf(p.path) ?? '?'})`),
    );

  return Object.freeze({
    file: where,
    presets: mergePresets(BUILTIN_PRESETS, parsed.data.presets),
    routes: parsed.data.routes,
    schedules: parsed.data.schedules,
    warnings: shadowingWarnings(parsed.data.routes),
  });
}

/** `presets[2].ladder[0]`: how people write a place in a nested document. */
export function formatPath(at: readonly PropertyKey[]): string {
  return at
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`))
    .join('');
}

function explain(issue: z.core.$ZodIssue, lineOf: (at: Path) => number | undefined): string {
  const at = issue.path as Path;
  // An unknown key is best located at the key itself.
  const locate = issue.code === 'unrecognized_keys' ? [...at, issue.keys[0]!] : at;
  const line = lineOf(locate);
  const sentence = describeIssue({ ...issue, path: [] }, formatPath(at) || 'the file');
  return line === undefined ? sentence : `${sentence} (line ${line})`;
}

/** Names that must exist: presets named by routes and schedules; names unique in the file. */
function crossReferences(file: PresetsFile): Problem[] {
  const problems: Problem[] = [];
  const known = mergePresets(BUILTIN_PRESETS, file.presets).map((p) => p.name);
  const expectKnown = (name: string, at: Path) => {
    if (!known.includes(name))
      problems.push({
        path: at,
        message:
          `Expected one of the preset names (${known.join(', ')}) for ${formatPath(at)} but ` +
          `received ${JSON.stringify(name)}`,
      });
  };
  const expectUnique = (names: string[], list: string) =>
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i)
        problems.push({
          path: [list, i, 'name'],
          message:
            `Expected a name not used before in ${list} for ${list}[${i}].name but received ` +
            JSON.stringify(name),
        });
    });
  expectUnique(
    file.presets.map((p) => p.name),
    'presets',
  );
  expectUnique(
    file.schedules.map((s) => s.name),
    'schedules',
  );
  for (const [i, route] of file.routes.entries())
    for (const [j, name] of route.presets.entries()) expectKnown(name, ['routes', i, 'presets', j]);
  for (const [i, schedule] of file.schedules.entries())
    if (schedule.preset) expectKnown(schedule.preset, ['schedules', i, 'preset']);
  return problems;
}

function invalid(file: string, problems: string[]): MediaflowError {
  return new MediaflowError(
    'CONFIG_INVALID',
    `Invalid presets file ${file} (MEDIAFLOW_PRESETS_FILE): ${problems.join('; ')}`,
  );
}
