import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const AMQP_URL = process.env.MEDIAFLOW_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Drops the connections whose client-provided name is `name`, as a network blip or a broker
 * restart would, without touching anyone else's: the test broker is shared.
 */
export async function closeAmqpConnections(name: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', [
    '-q',
    'list_connections',
    '--no-table-headers',
    'pid',
    'client_properties',
  ]);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`"${name}"`) || line.includes(`<<"${name}">>`))
    .map((line) => line.split('\t')[0]!)
    .filter(Boolean);
  for (const pid of pids)
    await run('rabbitmqctl', ['-q', 'close_connection', pid, 'test: dropped']);
  return pids.length;
}
