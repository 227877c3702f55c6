import { MediaflowError } from '../errors.js';

/** Seconds any one sharp pipeline may run: a backstop against inputs that are slow to decode. */
export const PIPELINE_TIMEOUT_SECONDS = 120;

/**
 * Translates what sharp/libvips threw into a typed error, in one place (the adapter edge).
 * `decoding` says whether the pipeline read the source: a failure there is the file's fault
 * (permanent); a failure on our own in-memory pixels is ours (INTERNAL, retryable).
 */
export function toImageError(error: unknown, decoding: boolean): MediaflowError {
  if (error instanceof MediaflowError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  if (/exceeds pixel limit|exceeds channel limit/i.test(message)) {
    return new MediaflowError(
      'MEDIA_LIMIT_EXCEEDED',
      `The image is larger than allowed: ${message}`,
      options,
    );
  }
  if (/timeout/i.test(message)) {
    return new MediaflowError(
      'PROCESS_TIMEOUT',
      `Image processing ran past ${PIPELINE_TIMEOUT_SECONDS}s and was stopped.`,
      options,
    );
  }
  if (/is blocked|operation .*blocked/i.test(message)) {
    return new MediaflowError(
      'MEDIA_REFUSED',
      `The image needs a loader that is refused: ${message}`,
      options,
    );
  }
  if (
    /no decoding plugin|unsupported codec|unsupported image format|unsupported feature/i.test(
      message,
    )
  ) {
    return new MediaflowError(
      'MEDIA_UNSUPPORTED',
      `The image format is not supported by this build: ${message}`,
      options,
    );
  }
  if (decoding)
    return new MediaflowError(
      'MEDIA_UNREADABLE',
      `The image could not be decoded: ${firstLine(message)}`,
      options,
    );
  return new MediaflowError('INTERNAL', `Image processing failed: ${firstLine(message)}`, options);
}

/**
 * Throws CANCELLED when the signal has fired; called between pipeline stages (sharp cannot be
 * interrupted mid-pipeline).
 */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new MediaflowError('CANCELLED', 'The image job was cancelled.');
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]?.trim() || 'unknown error';
}
