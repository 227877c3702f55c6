/** The CLI's exit codes, documented in the README. */
export const EXIT = {
  OK: 0,
  /** At least one job failed or was cancelled. */
  JOB_FAILED: 1,
  /**
   * Bad command line or arguments, including a request the API rejected as invalid (400, 409, 413).
   */
  USAGE: 2,
  /** The configuration is invalid, including a port out of range or already taken. */
  CONFIG: 3,
  /** Storage, Redis or the API could not be reached (or answered 503/429), or ffmpeg is missing. */
  UNAVAILABLE: 4,
  /** The API refused the key: MEDIAFLOW_API_KEY is missing or wrong (401, 403). */
  AUTH: 5,
  /** No job has that id (404), or `submit` named an object that does not exist. */
  NOT_FOUND: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for an API answer's HTTP status (0: the API could not be reached). */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 0 || status === 429 || status >= 500) return EXIT.UNAVAILABLE;
  return EXIT.USAGE;
}
