import { MediaflowError } from '../errors.js';
import type { Binaries } from './binaries.js';
import { runProcess } from './run-process.js';
import { bootId, cachedFact, fileIdentity } from './tool-cache.js';
import { describeVersion } from './version.js';

/**
 * What the ffmpeg in use can do, probed once per binary and cached: builds differ (Debian's has
 * zscale and SVT-AV1 but no libvmaf; the 2018 static one has libvmaf but no SVT-AV1), so presets
 * state what they need and fail with a clear message instead of an ffmpeg error mid-job.
 */
export interface Capabilities {
  encoders: ReadonlySet<string>;
  decoders: ReadonlySet<string>;
  /**
   * Each decoder's codec (`libdav1d` -> `av1`; most decoders are named after their codec). Absent
   * in hand-made values (tests): then each decoder counts as its own codec.
   */
  decoderCodecs?: ReadonlyMap<string, string>;
  filters: ReadonlySet<string>;
  /** Hardware acceleration methods compiled in (`-hwaccels`), usable or not. */
  hwaccels: ReadonlySet<string>;
  /** The subset of `hwaccels` whose device this machine could open (`-init_hw_device`). */
  hwDevices: ReadonlySet<string>;
}

/** What a preset or feature needs; each name as ffmpeg lists it (`libsvtav1`, `zscale`). */
export interface CapabilityNeeds {
  encoders?: readonly string[];
  decoders?: readonly string[];
  filters?: readonly string[];
  /** Usable hardware devices (`cuda`, `vaapi`, `qsv`), not merely compiled-in methods. */
  hwDevices?: readonly string[];
}

const KIND_WORD: Record<keyof CapabilityNeeds, string> = {
  encoders: 'encoder',
  decoders: 'decoder',
  filters: 'filter',
  hwDevices: 'hardware device',
};

const PROBE_TIMEOUT_MS = 15_000;
const HW_TIMEOUT_MS = 5_000;
const cache = new Map<string, Promise<Capabilities>>();

/** Probes (once per ffmpeg binary, then cached) what the ffmpeg in `binaries` can do. */
export function probeCapabilities(binaries: Binaries): Promise<Capabilities> {
  let pending = cache.get(binaries.ffmpeg);
  if (!pending) {
    pending = probeUncached(binaries);
    pending.catch(() => cache.delete(binaries.ffmpeg));
    cache.set(binaries.ffmpeg, pending);
  }
  return pending;
}

/** The needs `caps` does not meet, worded for people: `encoder libsvtav1`, `filter zscale`. */
export function missingCapabilities(caps: Capabilities, needs: CapabilityNeeds): string[] {
  const missing: string[] = [];
  for (const kind of Object.keys(KIND_WORD) as (keyof CapabilityNeeds)[])
    for (const name of needs[kind] ?? [])
      if (!caps[kind].has(name)) missing.push(`${KIND_WORD[kind]} ${name}`);
  return missing;
}

/**
 * Throws CAPABILITY_MISSING naming everything `what` (a preset, a feature) needs and the ffmpeg
 * in use lacks, and how to get it; returns quietly when all is there.
 */
export function requireCapabilities(
  caps: Capabilities,
  needs: CapabilityNeeds,
  what: string,
  binaries: Pick<Binaries, 'ffmpeg' | 'versions'>,
): void {
  const missing = missingCapabilities(caps, needs);
  if (missing.length === 0) return;
  throw new MediaflowError(
    'CAPABILITY_MISSING',
    `${what} needs ${missing.join(', ')}, which the ffmpeg at ${binaries.ffmpeg} ` +
      `(${describeVersion(binaries.versions.ffmpeg)}) lacks; install Debian's ffmpeg ` +
      `(apt-get install ffmpeg) or set FFMPEG_PATH to a build that has ` +
      `${missing.length === 1 ? 'it' : 'them'}.`,
  );
}

/** Capabilities as JSON: what the on-disk cache holds. */
interface CapabilityLists {
  encoders: string[];
  decoderCodecs: [string, string][];
  filters: string[];
  hwaccels: string[];
}

/**
 * What the build can do is a fact of the binary; which hardware devices open is a fact of this
 * boot as well, so each is cached under its own key (tool-cache.ts).
 */
async function probeUncached(binaries: Binaries): Promise<Capabilities> {
  const identity = await fileIdentity(binaries.ffmpeg);
  const lists = await cachedFact(binaries.cacheDir, 'capabilities', { v: 1, identity }, () =>
    probeLists(binaries),
  );
  const hwaccels = new Set(lists.hwaccels);
  const hwDevices = await cachedFact(
    binaries.cacheDir,
    'hw-devices',
    { v: 1, identity, boot: await bootId(), hwaccels: lists.hwaccels },
    async () => {
      const usable = await Promise.all(
        lists.hwaccels.map(async (method) =>
          (await canOpenDevice(binaries, method)) ? method : '',
        ),
      );
      return usable.filter(Boolean);
    },
  );
  const decoderCodecs = new Map(lists.decoderCodecs);
  return {
    encoders: new Set(lists.encoders),
    decoders: new Set(decoderCodecs.keys()),
    decoderCodecs,
    filters: new Set(lists.filters),
    hwaccels,
    hwDevices: new Set(hwDevices),
  };
}

async function probeLists(binaries: Binaries): Promise<CapabilityLists> {
  const list = async (flag: string) =>
    (
      await runProcess(binaries.ffmpeg, ['-hide_banner', flag], {
        timeoutMs: PROBE_TIMEOUT_MS,
        env: binaries.env,
        label: `ffmpeg ${flag}`,
      })
    ).stdout;
  const [encoders, decoderCodecs, filters, hwaccels] = await Promise.all([
    list('-encoders').then(parseCodecList),
    list('-decoders').then(parseCodecTable),
    list('-filters').then(parseFilterList),
    list('-hwaccels').then(parseHwaccels),
  ]);
  return {
    encoders: [...encoders],
    decoderCodecs: [...decoderCodecs],
    filters: [...filters],
    hwaccels: [...hwaccels],
  };
}

/** Opening a device is the only reliable test: a method can be compiled in with no GPU present. */
async function canOpenDevice(binaries: Binaries, method: string): Promise<boolean> {
  try {
    // A 16x16 null frame through a device-initialised ffmpeg: fails fast where none opens.
    const args = [
      ...'-hide_banner -nostdin -loglevel error -init_hw_device'.split(' '),
      method,
      ...'-f lavfi -i nullsrc=s=16x16:d=0.04 -f null -'.split(' '),
    ];
    await runProcess(binaries.ffmpeg, args, {
      timeoutMs: HW_TIMEOUT_MS,
      env: binaries.env,
      label: `ffmpeg -init_hw_device ${method}`,
    });
    return true;
  } catch {
    return false;
  }
}

/** `-encoders` / `-decoders`: the names after the `------` line. */
export function parseCodecList(output: string): Set<string> {
  return new Set(parseCodecTable(output).keys());
}

/**
 * `-encoders` / `-decoders`: after the `------` line, ` V....D name  description (codec id)`;
 * maps each name to its codec (the name itself when no `(codec ...)` follows).
 */
export function parseCodecTable(output: string): Map<string, string> {
  const table = new Map<string, string>();
  const body = output.slice(output.indexOf('------') + 6);
  for (const line of body.split('\n')) {
    const match = /^\s*[VASDT.][A-Z.]{5}\s+(\S+)(?:.*\(codec (\S+)\)\s*$)?/.exec(line);
    if (match?.[1]) table.set(match[1], match[2] ?? match[1]);
  }
  return table;
}

/**
 * Every decoder of the given codecs, for `-codec_whitelist` (which matches decoder names, not
 * codecs: allowing `av1` must allow `libdav1d`). Sorted, so the argument is stable.
 */
export function decodersFor(
  caps: Pick<Capabilities, 'decoders' | 'decoderCodecs'>,
  codecs: readonly string[],
): string[] {
  const wanted = new Set(codecs);
  const table = caps.decoderCodecs ?? new Map([...caps.decoders].map((name) => [name, name]));
  return [...table].flatMap(([name, codec]) => (wanted.has(codec) ? [name] : [])).sort();
}

/** `-filters`: ` TSC zscale  V->V  description` (three flag characters, name, in->out). */
export function parseFilterList(output: string): Set<string> {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /^\s*[T.][S.][C.]\s+(\S+)\s+\S+->\S+/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

/** `-hwaccels`: a heading, then one method per line. */
export function parseHwaccels(output: string): Set<string> {
  const lines = output.split('\n').map((line) => line.trim());
  return new Set(lines.filter((line) => line && !line.endsWith(':')));
}
