// Server-Sent Events over fetch. EventSource cannot send an Authorization header, and putting the
// API key in a URL would leak it into logs and history, so streams are read with fetch and parsed
// with eventsource-parser (served from node_modules by the API).
import { createParser } from '/assets/vendor/eventsource-parser.js';

/**
 * Reads an SSE endpoint, calling onEvent(name, data) for each event with its JSON data.
 * Reconnects after a drop (each connection starts with a fresh snapshot), stops for good when
 * the server closes the stream after an `end` event or when `stop()` is called.
 * onError(response) sees a non-2xx answer (e.g. 401), after which it does not reconnect.
 * onOpen() runs each time the server has answered, i.e. once it is listening for changes.
 */
export function readEvents(url, { headers = {}, onEvent, onError = () => {}, onOpen = () => {} }) {
  const controller = new AbortController();
  let ended = false;
  let retryMs = 2000;

  async function connect() {
    while (!controller.signal.aborted && !ended) {
      try {
        const response = await fetch(url, {
          headers: { ...headers, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!response.ok) return onError(response);
        onOpen();
        const parser = createParser({
          onEvent(event) {
            if (event.event === 'end') ended = true;
            onEvent(event.event ?? 'message', event.data ? JSON.parse(event.data) : null);
          },
          onRetry(ms) {
            retryMs = ms;
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      if (!ended) await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
  // connect() catches every failure itself (it retries), so nothing can reject here.
  void connect();
  return { stop: () => controller.abort() };
}
