import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startEmbeddedS3,
  EMBEDDED_CREDENTIALS,
  type EmbeddedS3,
} from '../../pipeline/storage/embedded-s3.js';
import { S3Store } from '../../pipeline/storage/s3-store.js';

export interface TestS3 {
  server: EmbeddedS3;
  store: S3Store;
  endpoint: string;
  /** Fresh bucket names for this test. */
  bucket(prefix: string): string;
  close(): Promise<void>;
}

/** A real S3-protocol server (s3rver) on a random loopback port, with its own data folder. */
export async function startTestS3(): Promise<TestS3> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-s3-'));
  const server = await startEmbeddedS3({ dataDir, port: 0 });
  const store = new S3Store({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    ...EMBEDDED_CREDENTIALS,
  });
  return {
    server,
    store,
    endpoint: server.endpoint,
    bucket: (prefix) => `${prefix}-${crypto.randomBytes(4).toString('hex')}`,
    async close() {
      store.destroy();
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
