import { startEmbeddedS3 } from '../../pipeline/storage/embedded-s3.js';

/**
 * The soak's S3-protocol server in a process of its own, so the soak can stop it hard (SIGKILL)
 * and start it again on the same port and data folder: an outage, not a wipe.
 * Usage: run-ts.js bench/soak/s3-server.ts DATA_DIR PORT
 */
const [dataDir, port] = process.argv.slice(2);
const s3 = await startEmbeddedS3({ dataDir: dataDir!, port: Number(port) });
process.stdout.write(`s3 ready ${s3.endpoint}\n`);
