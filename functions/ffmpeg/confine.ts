import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MediaflowError } from '../errors.js';
import { findOnPath, type Binaries } from './binaries.js';
import { runProcess } from './run-process.js';
import { bootId, cachedFact, fileIdentity } from './tool-cache.js';

/**
 * How media processes are confined. Every upload is decoded by ffmpeg, so a decoder bug must not
 * reach mediaflow's secrets, the network or other files:
 * - the environment is replaced, not extended: PATH, HOME/TMPDIR (the task's scratch), GCONV_PATH
 *   and the tools' own variables, never the S3 secret, API keys or Redis URL;
 * - resource limits (`prlimit`): address space, CPU seconds, size of any file written;
 * - where bubblewrap works, a sandbox: no network (a new, empty network namespace), the system
 *   read-only, the task's scratch folder the only writable place, and nothing else of the host's
 *   files visible except the inputs named on the command line.
 */
export interface Confinement {
  /** `bwrap` to run media processes in; undefined: no sandbox. */
  bwrap: string | undefined;
  /** `prlimit` (util-linux) to apply the limits with; undefined: no limits. */
  prlimit: string | undefined;
  limits: ResourceLimits;
}

export interface ResourceLimits {
  /** RLIMIT_AS: ffmpeg's allocations fail past it (a decompression bomb, a leak). */
  addressSpaceBytes: number;
  /** RLIMIT_CPU, over all threads: SIGXCPU past it. A backstop behind the wall-clock limit. */
  cpuSeconds: number;
  /** RLIMIT_FSIZE: SIGXFSZ when any file written grows past it. */
  fileSizeBytes: number;
}

/** The only PATH a media process sees. */
const SAFE_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The complete environment of a media process (nothing inherited). */
export function mediaEnv(
  scratchDir: string,
  toolEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    PATH: SAFE_PATH,
    HOME: scratchDir,
    TMPDIR: scratchDir,
    PWD: scratchDir,
    LC_ALL: 'C',
    ...toolEnv,
  };
}

/** System folders bound read-only into the sandbox (each only where it exists). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];
/** What ffmpeg's libraries read outside /usr: the loader cache, fonts, Debian's alternatives. */
const SYSTEM_EXTRAS = [
  '/etc/ld.so.cache',
  '/etc/fonts',
  '/etc/alternatives',
  '/var/cache/fontconfig',
];

/**
 * `file args` as actually run: wrapped in `prlimit` and `bwrap` as configured. Pure but for
 * looking at which system paths exist. `writable` is the task's scratch folder; inputs named by
 * `-i` outside it are bound read-only one by one, and so is the folder of a binary that lives
 * outside the system folders (a bundled or FFMPEG_PATH build).
 */
export function confineCommand(
  file: string,
  args: readonly string[],
  confinement: Confinement | undefined,
  writable: string,
): { file: string; args: string[] } {
  if (!confinement) return { file, args: [...args] };
  let command = [file, ...args];
  if (confinement.bwrap)
    command = [confinement.bwrap, ...sandboxArgs(file, args, writable), '--', ...command];
  if (confinement.prlimit) {
    const { addressSpaceBytes, cpuSeconds, fileSizeBytes } = confinement.limits;
    command = [
      confinement.prlimit,
      `--as=${addressSpaceBytes}`,
      `--cpu=${cpuSeconds}`,
      `--fsize=${fileSizeBytes}`,
      '--',
      ...command,
    ];
  }
  const [head, ...rest] = command;
  return { file: head ?? file, args: rest };
}

/** bwrap's options: see `Confinement`. Exported for tests. */
export function sandboxArgs(file: string, args: readonly string[], writable: string): string[] {
  const out = ['--unshare-all', '--die-with-parent', '--cap-drop', 'ALL'];
  for (const dir of SYSTEM_DIRS) {
    const stat = lstat(dir);
    if (stat?.isSymbolicLink()) out.push('--symlink', fs.readlinkSync(dir), dir);
    else if (stat?.isDirectory()) out.push('--ro-bind', dir, dir);
  }
  for (const item of SYSTEM_EXTRAS) out.push('--ro-bind-try', item, item);
  out.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  const binDir = path.dirname(path.resolve(file));
  if (!SYSTEM_DIRS.some((dir) => within(binDir, dir))) out.push('--ro-bind', binDir, binDir);
  out.push('--bind', writable, writable);
  for (const input of inputFiles(args))
    if (!within(input, writable)) out.push('--ro-bind', input, input);
  out.push('--chdir', writable);
  return out;
}

/** The absolute local paths a command reads: after `-i` (ffmpeg), else its last word (ffprobe). */
function inputFiles(args: readonly string[]): string[] {
  const named = args.flatMap((arg, i) => (args[i - 1] === '-i' ? [arg] : []));
  if (named.length === 0 && args.length > 0) named.push(args[args.length - 1]!);
  return named
    .map((arg) => arg.replace(/^file:/, ''))
    .filter((p) => path.isAbsolute(p) && fs.existsSync(p));
}

function within(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function lstat(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}

export type SandboxMode = 'auto' | 'required' | 'off';

export interface ConfinementSettings {
  /** `auto`: sandbox where bwrap works; `required`: refuse to start without; `off`: never. */
  sandbox: SandboxMode;
  limits: ResourceLimits;
  /** Where to look for bwrap and prlimit (PATH syntax). */
  searchPath: string;
}

/** The confinement to use, and why there is no sandbox when there is none. */
export interface ResolvedConfinement {
  confinement: Confinement;
  /** Set when the sandbox was wanted (`auto`) but cannot run here: worth a warning at start. */
  sandboxProblem: string | undefined;
}

const cache = new Map<string, Promise<ResolvedConfinement>>();

/**
 * Finds prlimit and bwrap and checks that the sandbox really starts ffmpeg on this host (it needs
 * unprivileged user namespaces, which some containers and hardened kernels lack). Cached per
 * settings. With `required` and no working sandbox, throws CONFIG_INVALID saying how to fix it.
 */
export function resolveConfinement(
  binaries: Binaries,
  settings: ConfinementSettings,
): Promise<ResolvedConfinement> {
  const key = JSON.stringify([binaries.ffmpeg, settings]);
  let pending = cache.get(key);
  if (!pending) {
    pending = resolveUncached(binaries, settings);
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

async function resolveUncached(
  binaries: Binaries,
  settings: ConfinementSettings,
): Promise<ResolvedConfinement> {
  const prlimit = findOnPath('prlimit', settings.searchPath);
  const base = { prlimit, limits: settings.limits };
  if (settings.sandbox === 'off')
    return { confinement: { ...base, bwrap: undefined }, sandboxProblem: undefined };
  const bwrap = findOnPath('bwrap', settings.searchPath);
  // Whether user namespaces work is a fact of this boot (and of the binaries): a sandbox that
  // worked is not tried again until one of them changes; one that failed is, at every start.
  const key = {
    v: 1,
    boot: await bootId(),
    bwrap: bwrap && (await fileIdentity(bwrap)),
    ffmpeg: await fileIdentity(binaries.ffmpeg),
  };
  const { problem } = bwrap
    ? await cachedFact(
        binaries.cacheDir,
        'sandbox',
        key,
        async () => ({ problem: await sandboxFailure(bwrap, binaries) }),
        (result) => !result.problem,
      )
    : { problem: 'bwrap (bubblewrap) is not installed' };
  if (!problem) return { confinement: { ...base, bwrap }, sandboxProblem: undefined };
  if (settings.sandbox === 'required')
    throw new MediaflowError(
      'CONFIG_INVALID',
      `MEDIAFLOW_SANDBOX=required, but ${problem}. Install bubblewrap (apt-get install ` +
        `bubblewrap) and allow unprivileged user namespaces (in a container: a seccomp profile ` +
        `that permits them), or set MEDIAFLOW_SANDBOX=auto.`,
    );
  return { confinement: { ...base, bwrap: undefined }, sandboxProblem: problem };
}

/** Runs `ffmpeg -version` in the sandbox; the reason it fails, or undefined when it works. */
async function sandboxFailure(bwrap: string, binaries: Binaries): Promise<string | undefined> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mediaflow-sandbox-'));
  try {
    const args = ['-hide_banner', '-version'];
    await runProcess(
      bwrap,
      [...sandboxArgs(binaries.ffmpeg, args, dir), '--', binaries.ffmpeg, ...args],
      {
        timeoutMs: 15_000,
        env: mediaEnv(dir, binaries.env),
        exactEnv: true,
        label: 'sandbox self-test',
      },
    );
    return undefined;
  } catch (error) {
    const tail = error instanceof MediaflowError ? error.stderrTail : undefined;
    return `bwrap cannot start ffmpeg here (${tail?.split('\n')[0] || String(error)})`;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
