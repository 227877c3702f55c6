/**
 * A child signal that follows `parent` through exactly one listener, removed by `dispose`. An
 * operation that hands its signal to several consumers (the SDK request and the file pipeline of a
 * download each add their own listener) would otherwise put two listeners per operation on the
 * task's signal: eight downloads in flight made 16 and Node's MaxListenersExceededWarning.
 */
export function linkedSignal(parent: AbortSignal | undefined): {
  signal: AbortSignal | undefined;
  dispose(): void;
} {
  if (!parent) return { signal: undefined, dispose() {} };
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose() {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => parent.removeEventListener('abort', onAbort),
  };
}
