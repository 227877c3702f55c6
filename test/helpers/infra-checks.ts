import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ENV_VARS, envSchema } from '../../pipeline/config/schema.js';

/**
 * Static checks of the deployment files (Dockerfile, docker compose, Kubernetes) against each other
 * and against the config schema and the CLI. Each check returns a list of problems instead of
 * throwing, so the tests can show both that the real files are clean and that a planted mistake is
 * reported (a check that cannot fail would prove nothing).
 */

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const INFRA = path.join(ROOT, 'infra');
export const K8S = path.join(INFRA, 'k8s');

/** What the deployment files may call: command name -> the options they may pass to it. */
export interface CliSurface {
  commands: Record<string, readonly string[]>;
}

/**
 * The BullMQ key KEDA watches: the task queue is `${MEDIAFLOW_QUEUE_PREFIX}-tasks` under BullMQ's
 * default key prefix `bull`, and `wait`/`active` are LISTs in BullMQ 5.
 */
export function bullListKey(queuePrefix: string, list: 'wait' | 'active'): string {
  return `bull:${queuePrefix}-tasks:${list}`;
}

// -------------------------------------------------------------------------------------------------
// Environment variables

const NAMED_ENV = /\b(MEDIAFLOW_[A-Z0-9_]*[A-Z0-9]|REDIS_URL|FFMPEG_PATH|FFPROBE_PATH)\b/g;
const KNOWN = new Set<string>(ENV_VARS);

/** Every mediaflow variable named anywhere in a text (values, commands, comments alike). */
export function namedEnvVars(text: string): string[] {
  return [...new Set(text.match(NAMED_ENV) ?? [])].sort();
}

export function unknownEnvVars(names: Iterable<string>, where: string): string[] {
  return [...names]
    .filter((name) => !KNOWN.has(name))
    .map((name) => `${where}: ${name} is not in ENV_VARS (pipeline/config/schema.ts)`);
}

/** Variables a container may set that are not mediaflow's own: Node's and the C library's. */
const PLATFORM_ENV = new Set([
  'NODE_ENV',
  'NODE_OPTIONS',
  'TZ',
  'UV_THREADPOOL_SIZE',
  'MALLOC_ARENA_MAX',
]);

/**
 * The environment given to a mediaflow process: every key is a schema variable or one of
 * PLATFORM_ENV (so a misspelt name is caught even without the MEDIAFLOW_ prefix), and the values
 * pass the schema itself.
 */
export function checkEnvMap(env: Record<string, string>, where: string): string[] {
  const problems = unknownEnvVars(
    Object.keys(env).filter((name) => !PLATFORM_ENV.has(name)),
    where,
  );
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      problems.push(`${where}: ${issue.path.join('.')}: ${issue.message}`);
  return problems;
}

// -------------------------------------------------------------------------------------------------
// Small parsers

/** Seconds in a compose duration such as `45s`, `1m30s`, `1.5s`. */
export function durationSeconds(value: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== value)
    throw new Error(`not a duration: ${value}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

/** A Kubernetes quantity (`250m`, `2`, `512Mi`, `1G`) as a number of base units. */
export function quantity(value: string | number): number {
  const text = String(value);
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!m) throw new Error(`not a quantity: ${text}`);
  const scale: Record<string, number> = {
    m: 1e-3,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (m[2] ? scale[m[2]]! : 1);
}

/** Compose interpolation as `docker compose` does it with an empty environment: defaults win. */
export function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, _braced, fallback: string | undefined) => {
      if (match === '$$') return '$';
      return fallback ?? '';
    },
  );
}

/**
 * `$$NAME` in a compose command is `$NAME` for the shell: resolve it from the service's
 * environment.
 */
export function shellExpand(script: string, env: Record<string, string>): string {
  return script.replace(
    /\$\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
    (_m, name: string) => env[name] ?? `<unset ${name}>`,
  );
}

export function readText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** One YAML document; `<<` merge keys on, as docker compose reads them. */
export function parseYaml(text: string): unknown {
  return parse(text, { merge: true, prettyErrors: true });
}

export interface K8sDoc {
  file: string;
  doc: Record<string, any>;
}

/** Every document of every manifest in infra/k8s; a syntax error throws with the file named. */
export function loadK8s(dir = K8S): K8sDoc[] {
  const out: K8sDoc[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const document of parseAllDocuments(readText(path.join(dir, file)))) {
      if (document.errors.length)
        throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
      const doc = document.toJS() as Record<string, any> | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

export function mapOfStrings(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${where}: expected a map of strings`);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

// -------------------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

export interface Dockerfile {
  instructions: Instruction[];
  /** Stage index -> its base image (ARGs resolved) and name. */
  stages: { image: string; name: string | undefined }[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    if (current && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: Dockerfile['stages'] = [];
  const instructions: Instruction[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = args.split('=');
      globalArgs[name!] = value;
    }
    if (upper === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_m, n: string) => globalArgs[n] ?? '');
      stages.push({ image: resolved, name: as?.toUpperCase() === 'AS' ? name : undefined });
    }
    instructions.push({ keyword: upper, args, stage: stages.length - 1 });
  }
  return { instructions, stages };
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) of one stage. */
export function dockerEnv(file: Dockerfile, stage: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of file.instructions.filter((i) => i.keyword === 'ENV' && i.stage === stage)) {
    const tokens = ins.args.split(/\s+/).filter(Boolean);
    if (tokens[0] && !tokens[0].includes('=')) env[tokens[0]] = tokens.slice(1).join(' ');
    else
      for (const token of tokens)
        env[token.slice(0, token.indexOf('='))] = token
          .slice(token.indexOf('=') + 1)
          .replace(/^"|"$/g, '');
  }
  return env;
}

export function jsonArgs(args: string, where: string): string[] {
  const start = args.indexOf('[');
  if (start < 0) throw new Error(`${where}: expected the exec (JSON array) form`);
  return JSON.parse(args.slice(start)) as string[];
}

/** `.dockerignore` as regexes; the last matching pattern wins (`!` re-includes). */
export function dockerIgnored(patterns: string[], file: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    // `**` (with its slash) spans folders; `*` and `?` stay within one path segment.
    const source = pattern
      .split(/\*\*\/?/)
      .map((part) =>
        part
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]'),
      )
      .join('(?:.*/)?');
    const re = new RegExp(`^${source}(?:/.*)?$`);
    if (re.test(file)) ignored = !negate;
  }
  return ignored;
}
