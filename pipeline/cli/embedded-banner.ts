import type { App } from '../app.js';
import type { Config } from '../config/load.js';
import { EMBEDDED_CREDENTIALS } from '../storage/embedded-s3.js';

/** Where the embedded S3 server is and how to reach it with any S3 client (aws, mc, rclone). */
export function embeddedS3Line(app: App, config: Config): string {
  const { accessKeyId, secretAccessKey } = EMBEDDED_CREDENTIALS;
  return (
    `embedded S3 at ${app.embedded?.endpoint} (access key ${accessKeyId}, secret ` +
    `${secretAccessKey}; upload to s3://${config.buckets.input}/, outputs in ` +
    `s3://${config.buckets.output}/)`
  );
}
