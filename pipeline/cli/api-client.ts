import { createParser } from 'eventsource-parser';
import { exitCodeForStatus, type ExitCode } from './exit-codes.js';

/**
 * An API call that failed: the server's error code and message, or UNAVAILABLE when unreachable.
 */
export class ApiRequestError extends Error {
  readonly exitCode: ExitCode;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiRequestError';
    this.exitCode = exitCodeForStatus(status);
  }
}

/**
 * The CLI's HTTP client for `mediaflow serve`: JSON requests with the bearer key, and SSE read
 * over fetch. Every failure becomes an ApiRequestError that main() prints as one line.
 */
export class ApiClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await this.fetch(path, {
      method,
      headers: {
        ...this.headers(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new ApiRequestError(
        response.status,
        error?.code ?? `HTTP_${response.status}`,
        error?.message ?? (text.slice(0, 200) || response.statusText),
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return parsed as T;
  }

  /**
   * Reads an SSE stream until the server closes it or `signal` aborts; `onEvent` gets parsed JSON.
   * `onOpen` runs once the server has answered, i.e. once it is listening for changes.
   */
  async events(
    path: string,
    onEvent: (name: string, data: unknown) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    const response = await this.fetch(path, {
      headers: { ...this.headers(), accept: 'text/event-stream' },
      signal,
    });
    if (!response.ok || !response.body) {
      const text = await response.text();
      const error = (safeJson(text) as { error?: { code?: string; message?: string } } | undefined)
        ?.error;
      throw new ApiRequestError(
        response.status,
        error?.code ?? `HTTP_${response.status}`,
        error?.message ?? response.statusText,
      );
    }
    onOpen?.();
    const parser = createParser({
      onEvent: (event) =>
        onEvent(event.event ?? 'message', event.data ? safeJson(event.data) : undefined),
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body)
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  private headers(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.base + path, init);
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new ApiRequestError(
        0,
        'UNAVAILABLE',
        `Cannot reach the API at ${this.base}${cause ? ` (${cause})` : ''}; is \`mediaflow ` +
          `serve\` running? (--api URL)`,
      );
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
