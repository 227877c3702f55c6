/**
 * Pieces every ffmpeg command shares. Pure: they only build argument arrays.
 *
 * Inputs always carry `-protocol_whitelist file` (an input option, so it must come before each
 * `-i`): nothing we read may open a network or a nested protocol, and `file:` paths mean a name
 * containing `:` is never taken for a protocol. The demuxer is pinned with `-f` from the probe, so
 * ffmpeg never re-guesses a format (the playlist-inside-an-AVI exploit relies on that guess).
 */

/** Global options first on every ffmpeg command line. */
export function ffmpegGlobalArgs(logLevel: 'error' | 'warning' | 'info' = 'warning'): string[] {
  return ['-hide_banner', '-nostdin', '-nostats', '-loglevel', logLevel, '-y'];
}

/** Global options for ffprobe. */
export function ffprobeGlobalArgs(): string[] {
  return ['-hide_banner', '-loglevel', 'error'];
}

export interface InputSpec {
  file: string;
  /** The demuxer, as pinned from the probe; omitted only for files we generated ourselves. */
  format?: string | undefined;
  /** Fast input seek in seconds (`-ss` before `-i`). */
  seekSeconds?: number | undefined;
  /** Other input options (before `-i`), e.g. `-noautorotate`. */
  options?: readonly string[] | undefined;
}

/** The only protocols an input may use. `pipe` is not needed: every input is a local file. */
export const PROTOCOL_WHITELIST = 'file';

/** `file:` prefix so a path is never parsed as `proto:...`. */
export function fileUrl(file: string): string {
  return file.startsWith('file:') ? file : `file:${file}`;
}

/** `-protocol_whitelist file [-f fmt] [-ss t] [...] -i file:path` */
export function inputArgs(input: InputSpec): string[] {
  const args = ['-protocol_whitelist', PROTOCOL_WHITELIST];
  if (input.format) args.push('-f', input.format);
  if (input.seekSeconds !== undefined && input.seekSeconds > 0)
    args.push('-ss', seconds(input.seekSeconds));
  if (input.options) args.push(...input.options);
  args.push('-i', fileUrl(input.file));
  return args;
}

/** Progress on stdout as key=value blocks (parsed by run-process). */
export function progressArgs(): string[] {
  return ['-progress', 'pipe:1'];
}

/** Seconds with microsecond precision and no exponent (ffmpeg rejects `1e-7`). */
export function seconds(value: number): string {
  const fixed = Math.max(0, value).toFixed(6);
  return fixed.replace(/\.?0+$/, '') || '0';
}

/** Bits per second as ffmpeg's `k` suffix. */
export function kbps(bitsPerSecond: number): string {
  return `${Math.round(bitsPerSecond / 1000)}k`;
}
