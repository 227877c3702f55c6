import { MediaflowError } from '../../functions/errors.js';
import { createApp, type App } from '../app.js';
import { assertSafeBinding } from '../api/auth.js';
import { buildServer, listen, type ServerOptions } from '../api/server.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { listenToEmbeddedEvents } from '../triggers/embedded-events.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** A running `mediaflow serve`: the app, its API, and the way to stop both. */
export interface ServeHandle {
  app: App;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the app and the API. Embedded (no REDIS_URL): the in-process runner, and uploads to the
 * embedded store trigger jobs through its own events; with an external S3 endpoint, uploads
 * arrive through the webhook (/v1/events/s3).
 *
 * Distributed (REDIS_URL): the Redis job store and BullMQ runner come from the distributed
 * composition (issue 5), which is not in the tree yet; until it is, serve refuses rather than
 * silently running tasks in this process where no worker would ever see them.
 */
export async function startServe(config: Config, log: Logger, options: ServerOptions = {}): Promise<ServeHandle> {
  // Refuse an unsafe binding before starting anything.
  assertSafeBinding(config.api.host, options.apiKeys ?? config.api.apiKeys);
  if (config.redisUrl) {
    throw new MediaflowError('CONFIG_INVALID', 'REDIS_URL is set, but `mediaflow serve` has no distributed composition wired yet; unset REDIS_URL to serve embedded');
  }
  const app = await createApp(config, log);
  const stopTrigger = app.embedded ? listenToEmbeddedEvents(app.embedded, app.orchestrator, config.buckets.input, log) : () => {};
  let server;
  try {
    server = await buildServer(app, options);
    const url = await listen(server, config.api.host, config.api.port, options.apiKeys ?? config.api.apiKeys);
    return {
      app,
      url,
      async close() {
        stopTrigger();
        // Stops accepting requests and ends SSE streams, then stops tasks and storage.
        await server!.close();
        await app.close();
      },
    };
  } catch (error) {
    stopTrigger();
    await server?.close();
    await app.close();
    throw error;
  }
}

/**
 * `mediaflow serve`: runs until SIGTERM or SIGINT, then shuts down gracefully: no new requests,
 * open event streams ended, running tasks stopped, storage closed. A second signal, or a shutdown
 * longer than MEDIAFLOW_SHUTDOWN_GRACE_S, exits at once.
 */
export async function runServe(config: Config, log: Logger): Promise<ExitCode> {
  const handle = await startServe(config, log);
  const where = handle.app.embedded ? `, embedded S3 at ${handle.app.embedded.endpoint}` : '';
  process.stderr.write(`mediaflow: API and dashboard on ${handle.url}/${where} (${config.api.apiKeys.length ? 'API keys required' : 'no API keys: loopback only'})\n`);

  return new Promise<ExitCode>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`mediaflow: ${signal} again, exiting now\n`);
        process.exit(EXIT.UNAVAILABLE);
      }
      stopping = true;
      process.stderr.write(`mediaflow: ${signal}, shutting down\n`);
      const force = setTimeout(() => {
        process.stderr.write('mediaflow: shutdown took too long, exiting\n');
        process.exit(EXIT.UNAVAILABLE);
      }, config.worker.shutdownGraceMs);
      force.unref();
      handle.close().then(
        () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          resolve(EXIT.OK);
        },
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(EXIT.UNAVAILABLE);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
