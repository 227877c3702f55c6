import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../pipeline/storage/s3-store.js';

/**
 * A storage server that accepts connections and then says nothing (a paused process, a wedged
 * proxy) once hung a `head` for 70 s (issue 11, case 4). Every call must give up on its own.
 */
describe('storage timeouts', () => {
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let endpoint: string;
  beforeAll(async () => {
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('fails a call to a server that never answers within the request timeout', async () => {
    const store = new S3Store({
      endpoint,
      region: 'us-east-1',
      accessKeyId: 'k',
      secretAccessKey: 's',
      forcePathStyle: true,
      requestTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      await expect(store.head('bucket', 'key')).rejects.toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
      });
      // The SDK tries 3 times; each gives up after 300 ms of silence (plus its short backoff).
      expect(Date.now() - started).toBeLessThan(5_000);
      await expect(store.putBytes('bucket', 'key', 'x')).rejects.toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
      });
    } finally {
      store.destroy();
    }
  });
});
