import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { MediaflowError } from '../../functions/errors.js';

/** Credentials s3rver accepts; it checks signatures, so clients must sign with these. */
export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3 {
  endpoint: string;
  /** Subscribes to the store's S3-format event notifications (one JSON document per change). */
  onEvent(listener: (notification: unknown) => void): () => void;
  close(): Promise<void>;
}

/**
 * Starts s3rver, a local server that speaks the S3 protocol over HTTP and emits S3-format event
 * notifications, on loopback. It stands in for MinIO/S3 in the embedded mode and in tests; the
 * code above talks to it only over the S3 protocol.
 */
export async function startEmbeddedS3(options: {
  dataDir: string;
  port: number;
}): Promise<EmbeddedS3> {
  const directory = path.join(options.dataDir, 's3');
  fs.mkdirSync(directory, { recursive: true });
  // Loaded here, not at the top: workers and API processes with a real S3 never need its
  // dozens of modules (koa, winston), and loading them is a good part of a cold start.
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    silent: true,
    directory,
    vhostBuckets: false,
  });
  // s3rver reports a taken port as an unhandled 'error' event (a crash), so it is checked first.
  if (options.port !== 0) await assertPortFree(options.port);
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    onEvent(listener) {
      server.on('event', listener);
      return () => server.off('event', listener);
    },
    close: () => server.close(),
  };
}

async function assertPortFree(port: number): Promise<void> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new MediaflowError(
      'CONFIG_INVALID',
      `The embedded S3 server cannot listen on 127.0.0.1:${port} (${code}); set ` +
        'MEDIAFLOW_EMBEDDED_S3_PORT to a free port (0 picks one)',
      { cause: error },
    );
  } finally {
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}
