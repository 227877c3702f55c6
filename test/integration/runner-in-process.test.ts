import { InProcessRunner } from '../../pipeline/runner/in-process.js';
import { runnerConformance } from '../helpers/runner-conformance.js';

runnerConformance(
  'in-process (p-queue)',
  async (hooks) =>
    new InProcessRunner(hooks, { concurrency: 4, retry: { attempts: 3, backoffMs: 5 } }),
);
