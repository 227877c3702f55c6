/**
 * ffmpeg versions, compared by libavcodec: release builds print `5.1.9-0+deb12u1`, git snapshots
 * print `N-47683-g0e8eb07980`, but every build prints the libavcodec it links, and that is where
 * the decoders (and their fixes) live.
 */
export interface ToolVersion {
  /** First line of `-version`, for logs and bug reports. */
  line: string;
  /** The release (`5.1.9`) or git snapshot (`N-47683-g0e8eb07980`) named on that line. */
  release: string;
  /** libavcodec major, minor, micro; [0, 0, 0] when the build does not print it. */
  libavcodec: [number, number, number];
}

/**
 * The oldest ffmpeg mediaflow runs without MEDIAFLOW_FFMPEG_ALLOW_OUTDATED: 4.4 (libavcodec
 * 58.134), the oldest release line distributions still patch (Ubuntu 22.04). The bundled 2018
 * snapshot (libavcodec 58.42) is below it.
 */
export const MIN_LIBAVCODEC: readonly [number, number, number] = [58, 134, 100];
export const MIN_RELEASE = '4.4';

/** Parses the output of `ffmpeg -version` / `ffprobe -version`. */
export function parseVersion(output: string): ToolVersion {
  const line = output.split('\n', 1)[0]?.trim() ?? '';
  const release = /version\s+(\S+)/.exec(line)?.[1] ?? 'unknown';
  const lavc = /^libavcodec\s+(\d+)\.\s*(\d+)\.\s*(\d+)/m.exec(output);
  const libavcodec: [number, number, number] = lavc
    ? [Number(lavc[1]), Number(lavc[2]), Number(lavc[3])]
    : [0, 0, 0];
  return { line, release, libavcodec };
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareLibavcodec(
  a: readonly [number, number, number],
  b: readonly [number, number, number],
): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function isOutdated(version: ToolVersion): boolean {
  return compareLibavcodec(version.libavcodec, MIN_LIBAVCODEC) < 0;
}

/** `5.1.9 (libavcodec 59.37.100)`. */
export function describeVersion(version: ToolVersion): string {
  return `${version.release} (libavcodec ${version.libavcodec.join('.')})`;
}
