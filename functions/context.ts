/**
 * What every media function receives besides its own parameters. Functions are stateless: local
 * files in, local files out, under `scratchDir`, which the caller creates and removes.
 */
export interface FunctionContext {
  /** A private directory for this call; every file the function writes goes under it. */
  scratchDir: string;
  /** Aborts the work (job cancelled, worker shutting down); media processes are killed at once. */
  signal: AbortSignal;
  /** Reports progress of this call as a fraction in [0, 1]. */
  onProgress: (fraction: number) => void;
  log: FunctionLogger;
}

export interface FunctionLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
}

/**
 * A context for scripts and tests: no progress reporting, silent logs, never aborted unless given a
 * signal.
 */
export function quietContext(
  scratchDir: string,
  signal: AbortSignal = new AbortController().signal,
): FunctionContext {
  const silent = { debug() {}, info() {}, warn() {} };
  return { scratchDir, signal, onProgress: () => {}, log: silent };
}
