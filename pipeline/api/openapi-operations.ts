type Json = Record<string, unknown>;

/**
 * Names client generators give the methods (openapi-generator, orval, oapi-codegen): stable, so a
 * regenerated client keeps its method names. An operation missing here gets one derived from its
 * method and path, so a new route is never left without.
 */
const OPERATION_IDS: Record<string, string> = {
  'post /v1/jobs': 'submitJobs',
  'get /v1/jobs': 'listJobs',
  'get /v1/jobs/{id}': 'getJob',
  'delete /v1/jobs/{id}': 'cancelJob',
  'post /v1/jobs/{id}/retry': 'retryJob',
  'get /v1/jobs/{id}/events': 'streamJobEvents',
  'get /v1/jobs/events': 'streamAllJobEvents',
  'get /v1/jobs/{id}/outputs/{path}': 'getJobOutput',
  'put /v1/uploads/{name}': 'uploadFile',
  'get /v1/overview': 'getOverview',
  'get /v1/presets': 'listPresets',
  'get /v1/presets/{name}': 'getPreset',
  'get /v1/schedules': 'listSchedules',
  'get /v1/workers': 'listWorkers',
  'post /v1/events/s3': 'receiveBucketEvents',
  'head /v1/events/s3': 'checkBucketEventWebhook',
  'get /healthz': 'getHealth',
  'get /readyz': 'getReadiness',
  'get /metrics': 'getMetrics',
};

const METHODS = ['get', 'put', 'post', 'delete', 'head', 'patch', 'options'];

/** "get /v1/jobs/{id}/outputs/{path}" -> "getJobsIdOutputsPath". */
function derived(method: string, route: string): string {
  const words = route
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w && w !== 'v1')
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return method + words.join('');
}

/** Tags group operations in docs and generated clients: the first path segment after /v1. */
function tagOf(route: string): string {
  const [first, second] = route.split('/').filter(Boolean);
  return first === 'v1' ? (second ?? 'api') : 'operations';
}

/**
 * Gives every operation an operationId, a tag and a description (its summary when it has none),
 * in place; returns the tags for the document's top-level list.
 */
export function completeOperations(paths: Record<string, Record<string, Json>>): Json[] {
  const tags = new Set<string>();
  for (const [route, item] of Object.entries(paths))
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.operationId ??= OPERATION_IDS[`${method} ${route}`] ?? derived(method, route);
      op.tags ??= [tagOf(route)];
      op.description ??= op.summary;
      for (const tag of op.tags as string[]) tags.add(tag);
    }
  return [...tags].map((name) => ({ name }));
}

/**
 * Every operation under the API key (the document's default security; the public routes and the
 * storage webhook name their own) is rate limited and authenticated, so it can answer 401 and
 * 429: added, in place, where an operation does not say so itself.
 */
export function addKeyedErrors(
  paths: Record<string, Record<string, Json>>,
  keyed: Record<number, Json>,
): void {
  for (const item of Object.values(paths))
    for (const method of METHODS) {
      const op = item[method];
      if (!op || op.security !== undefined) continue;
      const responses = (op.responses ?? {}) as Record<string, Json>;
      for (const [status, response] of Object.entries(keyed)) responses[status] ??= response;
      op.responses = responses;
    }
}
