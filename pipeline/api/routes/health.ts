import type { FastifyInstance } from 'fastify';
import { binarySummary, capabilitySummary } from '../../tasks/media-tools.js';
import type { ApiContext, ReadinessCheck } from '../context.js';

/** A dependency that does not answer within this is as good as down for a readiness probe. */
const CHECK_TIMEOUT_MS = 3000;
/** How long one round of readiness checks answers every probe. */
const READY_CACHE_MS = 2000;

type CheckResult = { ok: boolean; error?: string };

/**
 * `/healthz`: the process is up (liveness; never checks dependencies, so an outage elsewhere does
 * not get healthy pods restarted). `/readyz`: storage (both buckets) and every extra check, such
 * as Redis in distributed mode, answer; 503 otherwise, so a load balancer stops sending traffic.
 * Results are reused for 2 s, so probes do not each cost a storage round trip.
 * It also lists each broker consumer's state and counts.
 */
export async function healthRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, config } = ctx.app;
  const checks: Record<string, ReadinessCheck> = {
    storage: async () => {
      await store.ping(config.buckets.input);
      await store.ping(config.buckets.output);
    },
    ...ctx.readiness,
  };

  server.get('/healthz', async () => ({ status: 'ok' }));

  // The probe is public, so it names the failing dependency but keeps its error (addresses,
  // credentials in a URL) for the log.
  // Probes come every few seconds from every balancer and kubelet: the checks' results are shared
  // for READY_CACHE_MS (one storage and Redis round per period, however many probes), and probes
  // arriving while a round runs wait for it rather than start another.
  let cached: { at: number; results: Promise<(readonly [string, CheckResult])[]> } | undefined;
  const checkAll = () => {
    if (cached && Date.now() - cached.at < READY_CACHE_MS) return cached.results;
    const results = Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await run(check)] as const),
    );
    cached = { at: Date.now(), results };
    return results;
  };

  server.get('/readyz', async (request, reply) => {
    const fresh = !cached || Date.now() - cached.at >= READY_CACHE_MS;
    const results = await checkAll();
    if (fresh)
      for (const [name, r] of results)
        if (r.error) request.log.warn({ check: name, err: r.error }, 'readiness check failed');
    const ok = results.every(([, r]) => r.ok);
    // Versions tell an attacker which decoder bugs to try, so only callers with a key see them
    // (without keys the API serves loopback only).
    const trusted = !ctx.auth.enabled || ctx.auth.principal(request) !== undefined;
    // Consumers are shown, not checked: the API serves without a broker, and each consumer
    // reconnects by itself; alert on mediaflow_trigger_consumer_up instead.
    const consumers = ctx
      .consumers()
      .map(({ trigger, state, counts }) => ({ trigger, state, counts }));
    return reply.code(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'unavailable',
      checks: Object.fromEntries(results.map(([name, r]) => [name, { ok: r.ok }])),
      ...(consumers.length ? { consumers } : {}),
      ...(trusted
        ? {
            details: {
              mediaTools: binarySummary(ctx.app.binaries),
              capabilities: capabilitySummary(ctx.app.capabilities),
            },
          }
        : {}),
    });
  });
}

async function run(check: ReadinessCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
            CHECK_TIMEOUT_MS,
          )),
      ),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
