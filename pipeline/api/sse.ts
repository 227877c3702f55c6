import type { FastifyReply, FastifyRequest } from 'fastify';

/** An open Server-Sent Events response. */
export interface EventStream {
  send(event: string, data: unknown): void;
  close(): void;
  /** Runs when the stream ends, whoever ended it (client gone, server closing, `close()`). */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** Keeps idle connections (and proxies in between) from timing out. */
const HEARTBEAT_MS = 15_000;

/**
 * Takes the response over from fastify and starts an SSE stream on it. `retry` tells browsers'
 * EventSource (and our fetch-based readers) how soon to reconnect; each reconnect starts with a
 * full snapshot, so no event ids or replay are needed.
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx and similar proxies buffer responses unless told not to.
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const listeners: (() => void)[] = [];
  let closed = false;
  let sequence = 0;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();

  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const listener of listeners.splice(0)) listener();
    if (!res.writableEnded) res.end();
  };
  request.raw.on('close', finish);
  res.on('close', finish);

  return {
    send(event, data) {
      if (closed) return;
      // JSON never contains a raw newline, so each event's data is one `data:` line.
      res.write(`id: ${++sequence}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close: finish,
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
    get closed() {
      return closed;
    },
  };
}
