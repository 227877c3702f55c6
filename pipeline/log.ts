import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs on stderr (stdout stays free for `--json` reports). Secrets are redacted by
 * path wherever they could appear, so a token never reaches a log line.
 */
export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: [
          'authorization',
          'req.headers.authorization',
          'headers.authorization',
          '*.secretAccessKey',
          '*.apiKeys',
          '*.webhookToken',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: destination, sync: false }),
  );
}
