import type { TaskResult } from '../plan/types.js';

/**
 * The tasks a retry must run again after compensation: every one without a result, and every one
 * whose result points at storage the failure removed (outputs, or intermediates it put in
 * scratch). Only results of pure computations, such as a probe, survive. Pure.
 */
export function tasksToReset(
  taskIds: Iterable<string>,
  results: Readonly<Record<string, TaskResult>>,
): string[] {
  const survives = (id: string) => {
    const result = results[id];
    return result !== undefined && !result.outputs?.length && !result.scratchWrites?.length;
  };
  return [...new Set([...taskIds, ...Object.keys(results)])].filter((id) => !survives(id));
}
