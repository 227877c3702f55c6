import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A broker process of this test's own on a free loopback port, with its data in a temp folder,
 * so a test can stop and restart it without touching the brokers other tests share.
 */
export interface PrivateBroker {
  port: number;
  url: string;
  /** Stops the process (SIGTERM, so it saves its state) and starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await sleep(50);
  }
}

async function startBroker(
  scheme: string,
  command: (port: number, dir: string) => { bin: string; args: string[] },
): Promise<PrivateBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-broker-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const { bin, args } = command(port, dir);
    child = spawn(bin, args, { stdio: 'ignore' });
    await waitForPort(port);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    async restart(downMs = 500) {
      await stop();
      await sleep(downMs);
      await start();
    },
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nats-server with JetStream, storing under its own folder. */
export function startPrivateNats(): Promise<PrivateBroker> {
  return startBroker('nats', (port, dir) => ({
    bin: 'nats-server',
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
  }));
}

/** Mosquitto with persistence (saved on SIGTERM), so sessions and queued messages survive. */
export function startPrivateMosquitto(): Promise<PrivateBroker> {
  return startBroker('mqtt', (port, dir) => {
    const conf = path.join(dir, 'mosquitto.conf');
    fs.writeFileSync(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        // Started as root, Mosquitto switches to the `mosquitto` user, which cannot write here.
        `user ${os.userInfo().username}`,
        'persistence true',
        `persistence_location ${dir}/`,
        'autosave_interval 1',
        'max_queued_messages 10000',
        '',
      ].join('\n'),
    );
    return { bin: 'mosquitto', args: ['-c', conf] };
  });
}
