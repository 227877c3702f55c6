import fs from 'node:fs';
import path from 'node:path';
import { INFRA } from './infra-checks.js';

/**
 * The compose demo's MinIO credentials: mediaflow runs as a user whose policy reaches only its two
 * buckets, created by the setup container; MinIO's root user never reaches mediaflow's services.
 */

/** What mediaflow needs on its buckets; the listen API (MEDIAFLOW_MINIO_LISTEN) on the input. */
const BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketLocation'];
const OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
const INPUT_ACTIONS = ['s3:ListenBucketNotification'];

type Statement = { Effect?: string; Action?: string | string[]; Resource?: string | string[] };
const list = (v: string | string[] | undefined) => (v === undefined ? [] : [v].flat());

export interface MinioCredentialsInput {
  /** Environment of each mediaflow service (api, worker), by service name. */
  mediaflow: Record<string, Record<string, string>>;
  minioEnv: Record<string, string>;
  setupName: string;
  /** The setup script with its $$VARS resolved, and its volume mounts. */
  setupScript: string;
  setupVolumes: unknown[];
  buckets: { input: string; output: string };
}

export function checkMinioCredentials(c: MinioCredentialsInput): string[] {
  const problems: string[] = [];
  const rootUser = c.minioEnv.MINIO_ROOT_USER;
  const rootPassword = c.minioEnv.MINIO_ROOT_PASSWORD;
  const [first] = Object.values(c.mediaflow);
  for (const [name, env] of Object.entries(c.mediaflow)) {
    for (const key of Object.keys(env))
      if (/^MINIO_ROOT_/.test(key))
        problems.push(`compose: ${name} gets MinIO's root credentials (${key})`);
    if (env.MEDIAFLOW_S3_ACCESS_KEY_ID === rootUser)
      problems.push(`compose: ${name} uses MinIO's root user as MEDIAFLOW_S3_ACCESS_KEY_ID`);
    if (rootPassword && Object.values(env).includes(rootPassword))
      problems.push(`compose: ${name} gets MinIO's root password`);
    if (
      env.MEDIAFLOW_S3_ACCESS_KEY_ID !== first?.MEDIAFLOW_S3_ACCESS_KEY_ID ||
      env.MEDIAFLOW_S3_SECRET_ACCESS_KEY !== first?.MEDIAFLOW_S3_SECRET_ACCESS_KEY
    )
      problems.push(`compose: mediaflow's services must share one S3 user`);
  }
  const user = first?.MEDIAFLOW_S3_ACCESS_KEY_ID ?? '';
  const secret = first?.MEDIAFLOW_S3_SECRET_ACCESS_KEY ?? '';
  const script = c.setupScript;
  const setup = c.setupName;

  // Setup creates the user with mediaflow's keys and attaches a policy from a mounted file.
  if (!/mc alias set local \S+ "?[^"\s]+"? "?[^"\s]+"?/.test(script) || !script.includes(rootUser!))
    problems.push(`compose: ${setup} must connect as MinIO's root user`);
  if (!script.includes(`mc admin user add local "${user}" "${secret}"`))
    problems.push(`compose: ${setup} must add mediaflow's S3 user (mc admin user add)`);
  const create = /mc admin policy create local (\S+) (\S+)/.exec(script);
  if (!create)
    return [...problems, `compose: ${setup} must create a policy (mc admin policy create)`];
  const [, policy, container] = create;
  if (!new RegExp(`mc admin policy attach local ${policy} --user "?${user}"?`).test(script))
    problems.push(`compose: ${setup} must attach policy ${policy} to user ${user}`);
  const mount = c.setupVolumes
    .map((v) => String(v).split(':'))
    .find(([, target]) => target === container);
  if (!mount) return [...problems, `compose: ${setup} does not mount the policy file ${container}`];
  const file = path.resolve(INFRA, mount[0]!);
  if (!fs.existsSync(file)) return [...problems, `compose: policy file ${mount[0]} is missing`];
  return [...problems, ...checkPolicy(JSON.parse(fs.readFileSync(file, 'utf8')), c.buckets)];
}

/** Allows only the two buckets, and at least what mediaflow needs on them. */
export function checkPolicy(
  policy: { Statement?: Statement[] },
  buckets: { input: string; output: string },
): string[] {
  const problems: string[] = [];
  const arn = (b: string) => `arn:aws:s3:::${b}`;
  const allowed = new Set([buckets.input, buckets.output].flatMap((b) => [arn(b), `${arn(b)}/*`]));
  const grants = new Set<string>();
  for (const s of policy.Statement ?? []) {
    if (s.Effect !== 'Allow') continue;
    for (const resource of list(s.Resource)) {
      if (!allowed.has(resource)) problems.push(`policy: allows ${resource}, outside the buckets`);
      for (const action of list(s.Action)) {
        if (action.includes('*')) problems.push(`policy: wildcard action ${action}`);
        if (action.startsWith('admin:')) problems.push(`policy: admin action ${action}`);
        grants.add(`${action} ${resource}`);
      }
    }
  }
  const need = [
    ...[buckets.input, buckets.output].flatMap((b) => [
      ...BUCKET_ACTIONS.map((a) => `${a} ${arn(b)}`),
      ...OBJECT_ACTIONS.map((a) => `${a} ${arn(b)}/*`),
    ]),
    ...INPUT_ACTIONS.map((a) => `${a} ${arn(buckets.input)}`),
  ];
  for (const grant of need)
    if (!grants.has(grant)) problems.push(`policy: does not allow ${grant.replace(' ', ' on ')}`);
  return problems;
}
