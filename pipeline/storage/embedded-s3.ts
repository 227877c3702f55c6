import fs from 'node:fs';
import path from 'node:path';
import S3rver from 's3rver';

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
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    silent: true,
    directory,
    vhostBuckets: false,
  });
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
