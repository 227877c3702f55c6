import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs on stderr (stdout stays free for `--json` reports), or appended to a file when
 * `destination` is a path (the CLI's human commands keep machine logs out of their output).
 * Secrets are redacted by path wherever they could appear, so a token never reaches a log line.
 */
export function createLogger(level: string, destination: number | string = 2): Logger {
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
    typeof destination === 'number'
      ? pino.destination({ fd: destination, sync: false })
      : pino.destination({ dest: destination, mkdir: true, sync: false }),
  );
}
