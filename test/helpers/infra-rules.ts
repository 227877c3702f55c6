import fs from 'node:fs';
import path from 'node:path';
import {
  bullListKey,
  checkEnvMap,
  type CliSurface,
  type Dockerfile,
  dockerEnv,
  dockerIgnored,
  durationSeconds,
  INFRA,
  interpolate,
  jsonArgs,
  type K8sDoc,
  mapOfStrings,
  quantity,
  ROOT,
  shellExpand,
} from './infra-checks.js';
import { checkMinioCredentials } from './infra-minio-credentials.js';

/**
 * The rules the deployment files must keep. Each takes parsed files and returns problems (empty:
 * all good); infra.test.ts runs them on the real files and on copies with a planted mistake.
 */

function cliProblems(args: string[], cli: CliSurface, where: string): string[] {
  const [command, ...rest] = args;
  if (!command || !(command in cli.commands))
    return [
      `${where}: "${command}" is not a CLI command (${Object.keys(cli.commands).join(', ')})`,
    ];
  const allowed = cli.commands[command]!;
  return rest
    .filter((a) => a.startsWith('-'))
    .filter((o) => !allowed.includes(o))
    .map((o) => `${where}: ${command} has no option ${o}`);
}

function optionValue(args: string[], option: string): string | undefined {
  const i = args.indexOf(option);
  return i >= 0 ? args[i + 1] : undefined;
}

// -------------------------------------------------------------------------------------------------
// Dockerfile

export interface DockerFacts {
  port: number;
  uid: number;
  graceSeconds: number;
}

export function checkDockerfile(
  file: Dockerfile,
  ignore: string[],
  cli: CliSurface,
): { problems: string[]; facts: DockerFacts } {
  const problems: string[] = [];
  const last = file.stages.length - 1;
  const runtime = file.instructions.filter((i) => i.stage === last);
  const one = (keyword: string) => runtime.filter((i) => i.keyword === keyword).at(-1);

  if (file.stages.length < 2) problems.push('Dockerfile: expected a multi-stage build');
  if (!/^node:20-bookworm-slim$/.test(file.stages[last]?.image ?? ''))
    problems.push(
      `Dockerfile: runtime stage is ${file.stages[last]?.image}, expected node:20-bookworm-slim`,
    );
  for (const [i, stage] of file.stages.entries())
    if (i < last && !/^node:20-bookworm$/.test(stage.image))
      problems.push(
        `Dockerfile: stage ${stage.name ?? i} builds on ${stage.image}, expected ` +
          `node:20-bookworm (same Debian as the runtime)`,
      );

  const runs = runtime
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join('\n');
  if (!/apt-get install[^\n]*--no-install-recommends[^\n]*\bffmpeg\b/.test(runs))
    problems.push('Dockerfile: runtime must apt-get install --no-install-recommends ffmpeg');
  if (!/\btini\b/.test(runs)) problems.push('Dockerfile: runtime must install tini');

  // node_modules in the runtime come only from a stage that installed production dependencies.
  const copies = runtime.filter((i) => i.keyword === 'COPY');
  const modules = copies.filter((c) => /node_modules/.test(c.args));
  if (!modules.length) problems.push('Dockerfile: runtime copies no node_modules');
  for (const copy of modules) {
    const from = /--from=(\S+)/.exec(copy.args)?.[1];
    const stage = file.stages.findIndex((s, i) => s.name === from || String(i) === from);
    const stageRuns = file.instructions
      .filter((i) => i.stage === stage && i.keyword === 'RUN')
      .map((i) => i.args)
      .join('\n');
    if (!/npm ci\b[^\n&]*--omit=dev/.test(stageRuns))
      problems.push(
        `Dockerfile: node_modules come from stage ${from}, which does not run npm ci --omit=dev`,
      );
  }

  // Sources copied from the context exist and are not excluded by .dockerignore.
  for (const copy of file.instructions.filter(
    (i) => i.keyword === 'COPY' && !i.args.includes('--from='),
  )) {
    const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const source of parts.slice(0, -1)) {
      if (!fs.existsSync(path.join(ROOT, source)))
        problems.push(`Dockerfile: COPY ${source}: not in the repository`);
      if (dockerIgnored(ignore, source))
        problems.push(`Dockerfile: COPY ${source}: excluded by .dockerignore`);
    }
  }

  const env = dockerEnv(file, last);
  problems.push(...checkEnvMap(env, 'Dockerfile ENV'));
  if (env.FFMPEG_PATH !== '/usr/bin/ffmpeg' || env.FFPROBE_PATH !== '/usr/bin/ffprobe')
    problems.push(
      'Dockerfile: FFMPEG_PATH/FFPROBE_PATH must point at ' +
        "Debian's /usr/bin/ffmpeg and /usr/bin/ffprobe",
    );
  if (env.MEDIAFLOW_HOST !== '0.0.0.0')
    problems.push('Dockerfile: MEDIAFLOW_HOST must be 0.0.0.0 in a container');
  const port = Number(env.MEDIAFLOW_PORT);
  const exposed = one('EXPOSE')
    ?.args.split(/\s+/)
    .map((p) => Number(p.split('/')[0]));
  if (!exposed?.includes(port))
    problems.push(
      `Dockerfile: EXPOSE ${exposed?.join(' ')} does not include MEDIAFLOW_PORT ${port}`,
    );

  const health = one('HEALTHCHECK')?.args ?? '';
  if (!health.includes('/healthz')) problems.push('Dockerfile: HEALTHCHECK must request /healthz');
  if (/\bcurl\b|\bwget\b/.test(health))
    problems.push('Dockerfile: HEALTHCHECK uses curl/wget, which the slim image lacks');
  const healthPort =
    /MEDIAFLOW_PORT\s*\|\|\s*(\d+)/.exec(health)?.[1] ?? /:(\d+)\/healthz/.exec(health)?.[1];
  if (Number(healthPort) !== port)
    problems.push(`Dockerfile: HEALTHCHECK port ${healthPort} != MEDIAFLOW_PORT ${port}`);

  const user = one('USER')?.args ?? '';
  const uid = Number(user.split(':')[0]);
  if (!/^\d+(:\d+)?$/.test(user) || uid === 0)
    problems.push(
      `Dockerfile: USER "${user}" must be a numeric non-root uid (runAsNonRoot can only verify ` +
        `numbers)`,
    );

  const entrypoint = jsonArgs(one('ENTRYPOINT')?.args ?? '', 'ENTRYPOINT');
  if (entrypoint[0] !== '/usr/bin/tini')
    problems.push('Dockerfile: ENTRYPOINT must start with tini');
  const script = entrypoint.find((a) => a.endsWith('.js'));
  const workdir = one('WORKDIR')?.args ?? '/';
  const launcher = runs.match(/printf "import '([^']+)';\\n" > (\S+)/);
  if (!script || !launcher || path.posix.resolve(workdir, launcher[2]!) !== script)
    problems.push('Dockerfile: ENTRYPOINT must run the launcher the image writes');
  else {
    // The launcher imports the compiled CLI: outDir/rootDir of tsconfig put pipeline/cli/main.ts
    // there.
    const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    const compiled = path.posix.resolve(path.posix.dirname(script), launcher[1]!);
    const expected = path.posix.resolve(
      workdir,
      tsconfig.compilerOptions.outDir,
      path.posix.relative(tsconfig.compilerOptions.rootDir, 'pipeline/cli/main.js'),
    );
    if (compiled !== expected)
      problems.push(
        `Dockerfile: launcher imports ${compiled}, but tsc emits the CLI at ${expected}`,
      );
  }
  const cmd = jsonArgs(one('CMD')?.args ?? '', 'CMD');
  problems.push(...cliProblems(cmd, cli, 'Dockerfile CMD'));
  if (!/--help[^\n]*grep -qw serve[^\n]*grep -qw worker/.test(runs))
    problems.push('Dockerfile: the build must smoke-test that the CLI offers serve and worker');

  const graceSeconds = Number(env.MEDIAFLOW_SHUTDOWN_GRACE_S ?? 30);
  return { problems, facts: { port, uid, graceSeconds } };
}

// -------------------------------------------------------------------------------------------------
// docker compose

type Service = Record<string, any>;

function serviceEnv(service: Service): Record<string, string> {
  const raw = service.environment;
  const map = Array.isArray(raw)
    ? Object.fromEntries(raw.map((e: string) => [e.split('=')[0], e.split('=').slice(1).join('=')]))
    : raw;
  return Object.fromEntries(
    Object.entries(mapOfStrings(map, 'environment')).map(([k, v]) => [k, interpolate(v)]),
  );
}

function commandOf(service: Service): string[] {
  const c = service.command;
  return Array.isArray(c) ? c.map(String) : typeof c === 'string' ? c.split(/\s+/) : [];
}

export function checkCompose(compose: Record<string, any>, cli: CliSurface): string[] {
  const problems: string[] = [];
  const services: Record<string, Service> = compose.services ?? {};
  const names = Object.keys(services);
  const find = (cmd: string) => names.filter((n) => commandOf(services[n]!)[0] === cmd);
  const [api, ...moreApis] = find('serve');
  const [worker, ...moreWorkers] = find('worker');
  if (!api || moreApis.length)
    return [
      `compose: expected exactly one service running "serve", found ` +
        `${find('serve').join(', ') || 'none'}`,
    ];
  if (!worker || moreWorkers.length)
    return [
      `compose: expected exactly one service running "worker", found ` +
        `${find('worker').join(', ') || 'none'}`,
    ];
  if (worker !== 'worker')
    problems.push(
      `compose: the worker service must be called "worker" for --scale worker=N (is ${worker})`,
    );
  const minio = names.find((n) => /^minio\/minio[:@]/.test(services[n]!.image ?? ''));
  const redis = names.find((n) => /^redis[:@]/.test(services[n]!.image ?? ''));
  const setup = names.find((n) => /^minio\/mc[:@]/.test(services[n]!.image ?? ''));
  if (!minio || !redis || !setup)
    return [`compose: needs minio/minio, minio/mc and redis services (found ${names.join(', ')})`];

  const declaredVolumes = Object.keys(compose.volumes ?? {});
  for (const [name, service] of Object.entries(services)) {
    const deps = service.depends_on ?? {};
    for (const [dep, spec] of Object.entries(
      Array.isArray(deps) ? Object.fromEntries(deps.map((d: string) => [d, {}])) : deps,
    ) as [string, any][]) {
      const target = services[dep];
      if (!target) {
        problems.push(`compose: ${name} depends on unknown service ${dep}`);
        continue;
      }
      if (
        spec.condition === 'service_healthy' &&
        (!target.healthcheck || target.healthcheck.disable)
      )
        problems.push(
          `compose: ${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`,
        );
      if (spec.condition === 'service_completed_successfully' && target.restart !== 'no')
        problems.push(`compose: ${name} waits for one-shot ${dep}, which must have restart: "no"`);
    }
    for (const volume of service.volumes ?? []) {
      const source = String(volume).split(':')[0]!;
      if (!source.startsWith('.') && !source.startsWith('/') && !declaredVolumes.includes(source))
        problems.push(`compose: ${name} mounts undeclared volume ${source}`);
    }
    const image = String(service.image ?? '');
    if (!service.build && (!/:[^/]+$/.test(image) || image.endsWith(':latest')))
      problems.push(`compose: ${name} image ${image} must be pinned to a tag`);
    for (const value of Object.values(serviceEnv(service)))
      if (/\$\{|\$[A-Za-z_]/.test(value))
        problems.push(`compose: ${name} has an unresolved variable in ${value}`);
  }

  // API and workers: one image, built from the repository's Dockerfile, commands the CLI has.
  const apiSvc = services[api]!;
  const workerSvc = services[worker]!;
  if (apiSvc.image !== workerSvc.image)
    problems.push(`compose: ${api} and ${worker} must run the same image`);
  for (const name of [api, worker]) {
    const build = services[name]!.build;
    const context = typeof build === 'string' ? build : build?.context;
    const dockerfile = (typeof build === 'object' && build?.dockerfile) || 'Dockerfile';
    if (!context || path.resolve(INFRA, context, dockerfile) !== path.join(ROOT, 'Dockerfile'))
      problems.push(`compose: ${name} must build the repository's Dockerfile`);
    problems.push(...cliProblems(commandOf(services[name]!), cli, `compose ${name}`));
  }
  const apiEnv = serviceEnv(apiSvc);
  const workerEnv = serviceEnv(workerSvc);
  problems.push(
    ...checkEnvMap(apiEnv, `compose ${api}`),
    ...checkEnvMap(workerEnv, `compose ${worker}`),
  );
  const port = Number(apiEnv.MEDIAFLOW_PORT);
  const portArg = optionValue(commandOf(apiSvc), '--port');
  if (Number(portArg) !== port)
    problems.push(`compose: ${api} --port ${portArg} != MEDIAFLOW_PORT ${port}`);
  if (!(apiSvc.ports ?? []).some((p: unknown) => Number(String(p).split(':').at(-1)) === port))
    problems.push(`compose: ${api} publishes no port to container port ${port}`);
  const healthTest = JSON.stringify(apiSvc.healthcheck?.test ?? '');
  if (!new RegExp(`:${port}/healthz`).test(healthTest))
    problems.push(`compose: ${api} healthcheck must request :${port}/healthz`);
  if (apiEnv.MEDIAFLOW_HOST !== '0.0.0.0')
    problems.push(`compose: ${api} MEDIAFLOW_HOST must be 0.0.0.0`);
  if (!apiEnv.MEDIAFLOW_API_KEYS) problems.push(`compose: ${api} must set MEDIAFLOW_API_KEYS`);
  if (workerSvc.container_name)
    problems.push(`compose: ${worker} has container_name, so --scale cannot run two`);
  if (workerSvc.ports?.length)
    problems.push(`compose: ${worker} publishes host ports, so --scale cannot run two`);
  const grace = Number(workerEnv.MEDIAFLOW_SHUTDOWN_GRACE_S ?? 30);
  const stop = workerSvc.stop_grace_period
    ? durationSeconds(String(workerSvc.stop_grace_period))
    : 10;
  if (!(stop > grace))
    problems.push(
      `compose: ${worker} stop_grace_period ${stop}s must exceed MEDIAFLOW_SHUTDOWN_GRACE_S ` +
        `${grace}s`,
    );

  // Redis: durable and never evicting; REDIS_URL names it.
  const redisCmd = commandOf(services[redis]!).join(' ');
  if (!/--appendonly yes/.test(redisCmd) || !/--maxmemory-policy noeviction/.test(redisCmd))
    problems.push(`compose: ${redis} needs --appendonly yes --maxmemory-policy noeviction`);
  for (const [name, env] of [
    [api, apiEnv],
    [worker, workerEnv],
  ] as const) {
    const url = new URL(env.REDIS_URL ?? 'redis://missing');
    if (url.hostname !== redis || (url.port || '6379') !== '6379')
      problems.push(
        `compose: ${name} REDIS_URL ${env.REDIS_URL} does not point at service ${redis}:6379`,
      );
    const s3 = new URL(env.MEDIAFLOW_S3_ENDPOINT ?? 'http://missing');
    if (s3.hostname !== minio || s3.port !== '9000')
      problems.push(`compose: ${name} MEDIAFLOW_S3_ENDPOINT does not point at ${minio}:9000`);
  }

  // MinIO: mediaflow as a limited user made by setup, never root; a webhook target at the API with
  // its token and a queue dir.
  const minioSvc = services[minio]!;
  const minioEnv = serviceEnv(minioSvc);
  const setupEnv = serviceEnv(services[setup]!);
  const script = shellExpand(commandOf(services[setup]!).join(' '), setupEnv);
  problems.push(
    ...checkMinioCredentials({
      mediaflow: { [api]: apiEnv, [worker]: workerEnv },
      minioEnv,
      setupName: setup,
      setupScript: script,
      setupVolumes: services[setup]!.volumes ?? [],
      buckets: { input: apiEnv.MEDIAFLOW_INPUT_BUCKET!, output: apiEnv.MEDIAFLOW_OUTPUT_BUCKET! },
    }),
  );
  const ids = Object.keys(minioEnv)
    .map((k) => /^MINIO_NOTIFY_WEBHOOK_ENABLE_(\w+)$/.exec(k)?.[1])
    .filter(Boolean) as string[];
  if (ids.length !== 1)
    return [...problems, `compose: expected one MinIO webhook target, found ${ids.length}`];
  const id = ids[0]!;
  const target = (field: string) => minioEnv[`MINIO_NOTIFY_WEBHOOK_${field}_${id}`];
  if (target('ENABLE') !== 'on') problems.push(`compose: webhook target ${id} is not enabled`);
  const endpoint = new URL(target('ENDPOINT') ?? 'http://missing');
  if (
    endpoint.hostname !== api ||
    Number(endpoint.port || 80) !== port ||
    endpoint.pathname !== '/v1/events/s3'
  )
    problems.push(
      `compose: webhook endpoint ${endpoint.href} must be http://${api}:${port}/v1/events/s3`,
    );
  const token = target('AUTH_TOKEN') ?? '';
  if (token !== apiEnv.MEDIAFLOW_WEBHOOK_TOKEN)
    problems.push("compose: MinIO's webhook AUTH_TOKEN differs from MEDIAFLOW_WEBHOOK_TOKEN");
  if (/\s/.test(token))
    problems.push(
      'compose: the webhook token must be one word (MinIO then sends "Bearer <token>")',
    );
  const queueDir = target('QUEUE_DIR');
  const mounts = (minioSvc.volumes ?? []).map((v: unknown) => String(v).split(':')[1]);
  if (!queueDir || !mounts.some((m: string) => queueDir === m || queueDir.startsWith(`${m}/`)))
    problems.push(`compose: webhook QUEUE_DIR ${queueDir} must be on a volume`);
  if (
    !commandOf(minioSvc).join(' ').includes('--console-address :9001') ||
    !(minioSvc.ports ?? []).some((p: unknown) => String(p).endsWith(':9001'))
  )
    problems.push('compose: MinIO console (:9001) must be exposed');

  // Setup: both buckets made, the put event routed to the target, on the input bucket only.
  for (const bucket of [apiEnv.MEDIAFLOW_INPUT_BUCKET, apiEnv.MEDIAFLOW_OUTPUT_BUCKET]) {
    if (!new RegExp(`mc mb [^\\n]*local/${bucket}"?(\\s|$)`).test(script))
      problems.push(`compose: ${setup} does not create bucket ${bucket}`);
  }
  const event = new RegExp(
    `mc event add [^\\n]*"?local/${apiEnv.MEDIAFLOW_INPUT_BUCKET}"? ` +
      `arn:minio:sqs::${id}:webhook --event put`,
  );
  if (!event.test(script))
    problems.push(
      `compose: ${setup} must add the put event on ${apiEnv.MEDIAFLOW_INPUT_BUCKET} to ` +
        `arn:minio:sqs::${id}:webhook`,
    );
  return problems;
}

// -------------------------------------------------------------------------------------------------
// Kubernetes

function labelsMatch(
  selector: Record<string, string> = {},
  labels: Record<string, string> = {},
): boolean {
  return (
    Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)
  );
}

const REDIS_TRIGGER_KEYS = new Set([
  'address',
  'addressFromEnv',
  'host',
  'hostFromEnv',
  'port',
  'portFromEnv',
  'usernameFromEnv',
  'passwordFromEnv',
  'listName',
  'listLength',
  'activationListLength',
  'enableTLS',
  'unsafeSsl',
  'databaseIndex',
]);

export function checkK8s(docs: K8sDoc[], cli: CliSurface, docker: DockerFacts): string[] {
  const problems: string[] = [];
  const of = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  for (const { file, doc } of docs) {
    if (doc.metadata?.namespace)
      problems.push(
        `k8s ${file}: ${doc.kind} sets a namespace; the manifests must be namespace-agnostic`,
      );
  }
  const configMaps = new Map(
    of('ConfigMap').map((c) => [c.metadata.name as string, mapOfStrings(c.data, 'ConfigMap data')]),
  );
  const secrets = new Map(
    of('Secret').map((s) => [
      s.metadata.name as string,
      {
        ...mapOfStrings(s.stringData, 'Secret stringData'),
        ...Object.fromEntries(
          Object.entries(mapOfStrings(s.data, 'Secret data')).map(([k, v]) => [
            k,
            Buffer.from(v, 'base64').toString(),
          ]),
        ),
      },
    ]),
  );
  for (const [name, data] of secrets)
    for (const [key, value] of Object.entries(data))
      if (!value.includes('REPLACE_ME'))
        problems.push(`k8s: Secret ${name} ${key} is not a marked placeholder (REPLACE_ME)`);

  const deployments = of('Deployment');
  const role = (d: any) =>
    (d.spec?.template?.spec?.containers?.[0]?.args ?? [])[0] as string | undefined;
  const api = deployments.find((d) => role(d) === 'serve');
  const worker = deployments.find((d) => role(d) === 'worker');
  if (!api || !worker)
    return [
      ...problems,
      'k8s: need a Deployment running "serve" and one running "worker" (as container args)',
    ];
  const images = new Set<string>();
  let env: Record<string, string> = {};
  for (const d of deployments) {
    const name = d.metadata.name as string;
    const spec = d.spec.template.spec;
    if (!labelsMatch(d.spec.selector?.matchLabels, d.spec.template.metadata?.labels))
      problems.push(`k8s: Deployment ${name} selector does not match its pod labels`);
    env = {};
    for (const c of spec.containers) {
      images.add(String(c.image).replace(/[:@].*$/, ''));
      if (c.command)
        problems.push(
          `k8s: ${name}/${c.name} overrides command; use args so the image's tini entrypoint stays`,
        );
      problems.push(...cliProblems(c.args ?? [], cli, `k8s ${name}`));
      for (const from of c.envFrom ?? []) {
        const ref = from.configMapRef?.name ?? from.secretRef?.name;
        const data = from.configMapRef ? configMaps.get(ref) : secrets.get(ref);
        if (!data)
          problems.push(
            `k8s: ${name} envFrom names ${from.configMapRef ? 'ConfigMap' : 'Secret'} ${ref}, ` +
              `which is not defined`,
          );
        else Object.assign(env, data);
      }
      for (const e of c.env ?? []) env[e.name] = e.value ?? '';
      problems.push(...checkEnvMap(env, `k8s ${name} environment`));
      for (const kind of ['cpu', 'memory'] as const) {
        const req = c.resources?.requests?.[kind];
        const lim = c.resources?.limits?.[kind];
        if (req === undefined || lim === undefined)
          problems.push(`k8s: ${name}/${c.name} needs ${kind} requests and limits`);
        else if (quantity(lim) < quantity(req))
          problems.push(`k8s: ${name}/${c.name} ${kind} limit below its request`);
      }
    }
    const grace = Number(env.MEDIAFLOW_SHUTDOWN_GRACE_S ?? 30);
    if (!(spec.terminationGracePeriodSeconds > grace))
      problems.push(
        `k8s: ${name} terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} must ` +
          `exceed MEDIAFLOW_SHUTDOWN_GRACE_S ${grace}`,
      );
    if (
      spec.securityContext?.runAsNonRoot !== true ||
      spec.securityContext?.runAsUser !== docker.uid
    )
      problems.push(`k8s: ${name} must run as non-root uid ${docker.uid} (the image's USER)`);
    if (spec.containers.some((c: any) => c.ports?.length) && d !== api)
      problems.push(`k8s: ${name} exposes ports but serves no HTTP`);
  }
  if (images.size !== 1)
    problems.push(`k8s: API and workers must run one image, found ${[...images].join(', ')}`);

  // API: one port everywhere; probes on it.
  const apiName = api.metadata.name as string;
  const container = api.spec.template.spec.containers[0];
  const apiEnv: Record<string, string> = {};
  for (const from of container.envFrom ?? [])
    Object.assign(
      apiEnv,
      configMaps.get(from.configMapRef?.name) ?? secrets.get(from.secretRef?.name) ?? {},
    );
  const port = Number(apiEnv.MEDIAFLOW_PORT);
  const ports: { name?: string; containerPort: number }[] = container.ports ?? [];
  const resolvePort = (p: unknown) =>
    typeof p === 'number' ? p : ports.find((x) => x.name === p)?.containerPort;
  if (!ports.some((p) => p.containerPort === port))
    problems.push(
      `k8s: ${apiName} containerPort ${ports.map((p) => p.containerPort)} != MEDIAFLOW_PORT ` +
        `${port}`,
    );
  if (port !== docker.port)
    problems.push(`k8s: MEDIAFLOW_PORT ${port} != the image's ${docker.port}`);
  const portArg = optionValue(container.args, '--port');
  if (portArg !== undefined && Number(portArg) !== port)
    problems.push(`k8s: ${apiName} --port ${portArg} != MEDIAFLOW_PORT ${port}`);
  for (const [probe, pathExpected] of [
    ['readinessProbe', '/readyz'],
    ['livenessProbe', '/healthz'],
  ] as const) {
    const get = container[probe]?.httpGet;
    if (get?.path !== pathExpected || resolvePort(get?.port) !== port)
      problems.push(`k8s: ${apiName} ${probe} must GET ${pathExpected} on port ${port}`);
  }
  const scrape = api.spec.template.metadata?.annotations?.['prometheus.io/port'];
  if (scrape !== undefined && Number(scrape) !== port)
    problems.push(`k8s: ${apiName} prometheus.io/port ${scrape} != ${port}`);
  const services = of('Service');
  if (!services.length) problems.push('k8s: no Service');
  for (const svc of services) {
    if (!labelsMatch(svc.spec.selector, api.spec.template.metadata.labels))
      problems.push(`k8s: Service ${svc.metadata.name} selector does not select the API pods`);
    if (labelsMatch(svc.spec.selector, worker.spec.template.metadata.labels))
      problems.push(`k8s: Service ${svc.metadata.name} also selects worker pods`);
    for (const p of svc.spec.ports ?? [])
      if (resolvePort(p.targetPort ?? p.port) !== port)
        problems.push(
          `k8s: Service ${svc.metadata.name} targetPort ${p.targetPort} is not the API's port ` +
            `${port}`,
        );
  }

  // KEDA: scales the worker Deployment on the BullMQ lists, at the Redis of REDIS_URL.
  const workerName = worker.metadata.name as string;
  const workerEnv: Record<string, string> = {};
  for (const from of worker.spec.template.spec.containers[0].envFrom ?? [])
    Object.assign(
      workerEnv,
      configMaps.get(from.configMapRef?.name) ?? secrets.get(from.secretRef?.name) ?? {},
    );
  const scaled = of('ScaledObject');
  if (scaled.length !== 1) problems.push(`k8s: expected one ScaledObject, found ${scaled.length}`);
  for (const so of scaled) {
    const ref = so.spec.scaleTargetRef;
    if (ref?.name !== workerName || (ref.kind ?? 'Deployment') !== 'Deployment')
      problems.push(
        `k8s: ScaledObject targets ${ref?.kind ?? 'Deployment'} ${ref?.name}, not Deployment ` +
          `${workerName}`,
      );
    if (!(so.spec.minReplicaCount >= 1))
      problems.push(
        'k8s: ScaledObject minReplicaCount must be at least 1 (only a running worker promotes ' +
          'delayed retries)',
      );
    const prefix = workerEnv.MEDIAFLOW_QUEUE_PREFIX ?? 'mediaflow';
    const redis = new URL(workerEnv.REDIS_URL ?? 'redis://missing');
    const lists = new Map<string, Record<string, string>>();
    for (const t of so.spec.triggers ?? []) {
      const meta = mapOfStrings(t.metadata, 'trigger metadata');
      if (t.type !== 'redis')
        problems.push(`k8s: ScaledObject trigger type ${t.type}, expected redis`);
      for (const key of Object.keys(meta))
        if (!REDIS_TRIGGER_KEYS.has(key))
          problems.push(`k8s: redis trigger has unknown metadata ${key}`);
      lists.set(meta.listName ?? '', meta);
      if (meta.address !== `${redis.hostname}:${redis.port || '6379'}`)
        problems.push(`k8s: trigger address ${meta.address} is not REDIS_URL's ${redis.host}`);
      if ((meta.databaseIndex ?? '0') !== (redis.pathname.replace('/', '') || '0'))
        problems.push(
          `k8s: trigger databaseIndex ${meta.databaseIndex} is not REDIS_URL's database`,
        );
      if (!(Number(meta.listLength) > 0))
        problems.push(`k8s: trigger ${meta.listName} needs a positive listLength`);
    }
    if (!lists.has(bullListKey(prefix, 'wait')))
      problems.push(
        `k8s: no trigger on ${bullListKey(prefix, 'wait')} (found ${[...lists.keys()].join(', ')})`,
      );
    const active = lists.get(bullListKey(prefix, 'active'));
    if (active && active.listLength !== workerEnv.MEDIAFLOW_WORKER_CONCURRENCY)
      problems.push(
        `k8s: the active-list trigger's listLength ${active.listLength} must equal ` +
          `MEDIAFLOW_WORKER_CONCURRENCY ${workerEnv.MEDIAFLOW_WORKER_CONCURRENCY}`,
      );
    for (const name of lists.keys())
      if (![bullListKey(prefix, 'wait'), bullListKey(prefix, 'active')].includes(name))
        problems.push(`k8s: trigger watches ${name}, not a list of queue ${prefix}-tasks`);
  }

  const pdbs = of('PodDisruptionBudget');
  if (!pdbs.length) problems.push('k8s: no PodDisruptionBudget');
  for (const pdb of pdbs) {
    const hits = deployments.filter((d) =>
      labelsMatch(pdb.spec.selector?.matchLabels, d.spec.template.metadata.labels),
    );
    if (hits.length !== 1)
      problems.push(
        `k8s: PodDisruptionBudget ${pdb.metadata.name} selects ${hits.length} Deployments, ` +
          `expected 1`,
      );
  }

  // Kustomization: lists exactly the manifests, and rewrites the image the Deployments use.
  const kustomization = of('Kustomization')[0];
  if (kustomization) {
    const listed = new Set<string>(kustomization.resources ?? []);
    const files = new Set(docs.filter((d) => d.doc.kind !== 'Kustomization').map((d) => d.file));
    for (const f of files)
      if (!listed.has(f)) problems.push(`k8s: kustomization.yaml does not list ${f}`);
    for (const f of listed)
      if (!files.has(f)) problems.push(`k8s: kustomization.yaml lists missing ${f}`);
    for (const image of kustomization.images ?? [])
      if (!images.has(image.name))
        problems.push(`k8s: kustomization image ${image.name} is used by no Deployment`);
  }
  return problems;
}
