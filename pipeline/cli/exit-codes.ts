/** The CLI's exit codes, documented in the README. */
export const EXIT = {
  OK: 0,
  /** At least one job failed or was cancelled. */
  JOB_FAILED: 1,
  /** Bad command line or arguments. */
  USAGE: 2,
  /** The configuration is invalid. */
  CONFIG: 3,
  /** Storage, Redis or the API could not be reached, or ffmpeg is missing. */
  UNAVAILABLE: 4,
} as const;
