import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { toErrorRecord, ERROR_CODES } from '../../functions/errors.js';
import { loadConfig, type Config } from '../config/load.js';
import { createLogger } from '../log.js';
import { EXIT } from './exit-codes.js';
import { ApiClient, ApiRequestError } from './api-client.js';

// Commands load their modules when they run: `--help` and the HTTP client commands stay quick
// instead of loading sharp, the AWS SDK and BullMQ first.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The CLI's command names, checked against the deployment files by the infra tests. */
export const COMMANDS = [
  'demo',
  'process',
  'serve',
  'worker',
  'submit',
  'status',
  'jobs',
  'cancel',
  'retry',
  'presets',
] as const;

/** `--preset` help: the names come from the configuration, so a presets file's show up too. */
function presetHelp(fallback: string): string {
  let names: string;
  try {
    names = loadConfig()
      .catalog.presets.map((p) => p.name)
      .join(', ');
  } catch {
    names = 'see `mediaflow presets`';
  }
  return `preset name (${names}; default: ${fallback})`;
}

/**
 * The human commands (demo, process) print progress and results, not logs: machine logs go to
 * `<data dir>/mediaflow.log`, or to stderr with --verbose.
 */
function cliConfig(verbose: boolean): {
  config: Config;
  log: ReturnType<typeof createLogger>;
  logFile: string | undefined;
} {
  const config = loadConfig();
  if (verbose) return { config, log: createLogger(config.logLevel), logFile: undefined };
  const logFile = path.join(config.embedded.dataDir, 'mediaflow.log');
  return { config, log: createLogger(config.logLevel, logFile), logFile };
}

const VERBOSE = [
  '--verbose',
  'machine logs on stderr instead of <data dir>/mediaflow.log',
] as const;

export function buildProgram(): Command {
  const program = new Command('mediaflow')
    .description(
      'Event-driven media processing for object storage: uploads become web-ready images, HLS ' +
        'ladders and MP4 renditions.',
    )
    .exitOverride()
    // One line in the CLI's own wording: "mediaflow: unknown option '--x'" and a hint after it.
    .configureOutput({
      outputError: (text, write) => write(`mediaflow: ${text.replace(/^error: /, '')}`),
    })
    .option('--version', 'print the versions of mediaflow and of the ffmpeg/ffprobe it would use')
    // A word that names no command reaches this action: say so, in one line with the hint.
    .allowExcessArguments()
    .action(async (options: { version?: boolean }) => {
      const [word] = program.args;
      if (word) program.error(`unknown command '${word}'`, { exitCode: EXIT.USAGE });
      if (!options.version) program.help({ error: true });
      const { runVersion } = await import('./version.js');
      process.exitCode = await runVersion(loadConfig());
    });

  program
    .command('demo')
    .description(
      'Run the embedded demo: start a local S3 server, upload samples/, let the upload events ' +
        'trigger jobs, print the outputs',
    )
    .option('--samples <dir>', 'folder of sample media to upload', path.join(ROOT, 'samples'))
    .option(...VERBOSE)
    .action(async (options: { samples: string; verbose?: boolean }) => {
      const { config, log, logFile } = cliConfig(Boolean(options.verbose));
      const { runDemo } = await import('./demo.js');
      // The demo decodes only the samples on this machine, not strangers' uploads, so on a host
      // without a current ffmpeg it runs the bundled build (with a warning) instead of refusing:
      // `npm ci && npm run demo` needs nothing else installed.
      const trusted = { ...config, ffmpegAllowOutdated: true };
      process.exitCode = await runDemo(trusted, log, path.resolve(options.samples), logFile);
    });

  program
    .command('process')
    .description(
      'Process local files through the same pipeline (embedded) and copy outputs and manifest ' +
        'to --out/<file name>/',
    )
    .argument('<file...>', 'media files')
    .option('--preset <name>', presetHelp('chosen from the media type'))
    .option('--out <dir>', 'output folder', 'mediaflow-out')
    .option('--json', 'print one JSON report on stdout', false)
    .option(...VERBOSE)
    .action(
      async (
        files: string[],
        options: { preset?: string; out: string; json: boolean; verbose?: boolean },
      ) => {
        const { config, log, logFile } = cliConfig(Boolean(options.verbose));
        const { runProcessCommand } = await import('./process.js');
        process.exitCode = await runProcessCommand(files, options, config, log, logFile);
      },
    );

  program
    .command('worker')
    .description(
      'Run tasks from the BullMQ queues (distributed mode: REDIS_URL and ' +
        'MEDIAFLOW_S3_ENDPOINT) until SIGTERM/SIGINT, then stop gracefully within ' +
        'MEDIAFLOW_SHUTDOWN_GRACE_S',
    )
    .action(async () => {
      const config = loadConfig();
      const { runWorker } = await import('./worker.js');
      process.exitCode = await runWorker(config, createLogger(config.logLevel));
    });

  program
    .command('serve')
    .description(
      'Run the HTTP API, the dashboard (at /) and the upload triggers until SIGTERM/SIGINT',
    )
    .option(
      '--port <n>',
      'port to listen on (default MEDIAFLOW_PORT, 8080; 0 picks a free one)',
      parsePort,
    )
    .action(async (options: { port?: number }) => {
      const base = loadConfig();
      const port = options.port ?? base.api.port;
      const config: Config = Object.freeze({ ...base, api: { ...base.api, port } });
      const { runServe } = await import('./serve.js');
      process.exitCode = await runServe(config, createLogger(config.logLevel));
    });

  // Client commands talk to a running `mediaflow serve` over HTTP.
  const apiOption = (command: Command) =>
    command
      .option(
        '--api <url>',
        'API base URL',
        `http://127.0.0.1:${process.env.MEDIAFLOW_PORT || 8080}`,
      )
      .option('--json', 'print JSON on stdout', false);
  const client = (options: { api: string }) =>
    new ApiClient(options.api, process.env.MEDIAFLOW_API_KEY || undefined);

  apiOption(
    program
      .command('submit')
      .description(
        'Submit objects to the API: bucket/key, or bucket/prefix/ for every object under a ' +
          'prefix (API key from MEDIAFLOW_API_KEY)',
      )
      .argument('<target...>', 'bucket/key or bucket/prefix/')
      .option('--preset <name>', presetHelp('the routes, else chosen from the media type'))
      .option(
        '--force',
        'run again objects whose jobs succeeded (job ids already change when a preset changes)',
        false,
      )
      .option('--prefix', 'treat every target as a key prefix', false)
      .option(
        '--wait',
        'follow the jobs with progress bars until they end; exit 1 if any failed',
        false,
      ),
  ).action(
    async (
      targets: string[],
      options: {
        api: string;
        preset?: string;
        force: boolean;
        prefix: boolean;
        wait: boolean;
        json: boolean;
      },
    ) => {
      const { runSubmit } = await import('./submit.js');
      process.exitCode = await runSubmit(targets, options, client(options));
    },
  );

  apiOption(
    program
      .command('status')
      .description("A job's state, per-task progress, outputs and error")
      .argument('<id>', 'job id'),
  ).action(async (id: string, options: { api: string; json: boolean }) => {
    const { runStatus } = await import('./status.js');
    process.exitCode = await runStatus(id, options, client(options));
  });

  apiOption(
    program
      .command('jobs')
      .description('List jobs, newest first')
      .option(
        '--state <state>',
        'only jobs in this state (queued, running, succeeded, failed, cancelled)',
      )
      .option('--search <text>', 'only jobs whose source key or preset name contains this')
      .option('--limit <n>', 'how many', '20')
      .option('--cursor <cursor>', 'continue a previous listing'),
  ).action(
    async (options: {
      api: string;
      state?: string;
      search?: string;
      limit: string;
      cursor?: string;
      json: boolean;
    }) => {
      const { runJobs } = await import('./jobs.js');
      process.exitCode = await runJobs(options, client(options));
    },
  );

  apiOption(
    program
      .command('cancel')
      .description('Cancel a job: its ffmpeg processes are killed and its partial outputs removed')
      .argument('<id>', 'job id'),
  ).action(async (id: string, options: { api: string; json: boolean }) => {
    const { runCancel } = await import('./job-actions.js');
    process.exitCode = await runCancel(id, options, client(options));
  });

  apiOption(
    program
      .command('retry')
      .description(
        'Run a failed or cancelled job again, or with --failed every failed job whose error is ' +
          'not permanent',
      )
      .argument('[id]', 'job id')
      .option('--failed', 'retry every failed job with a retryable error', false),
  ).action(
    async (id: string | undefined, options: { api: string; failed: boolean; json: boolean }) => {
      const { runRetry } = await import('./job-actions.js');
      process.exitCode = await runRetry(id, options, client(options));
    },
  );

  program
    .command('presets')
    .description(
      'List the presets (built-ins and MEDIAFLOW_PRESETS_FILE) and the routes, or show one ' +
        "preset's resolved settings; from this machine's configuration, or a server's with --api",
    )
    .argument('[name]', 'one preset to show in full')
    .option('--api <url>', 'ask a running API instead (key from MEDIAFLOW_API_KEY)')
    .option('--json', 'print JSON on stdout', false)
    .action(async (name: string | undefined, options: { api?: string; json: boolean }) => {
      const { runPresets } = await import('./presets.js');
      const { presetList } = await import('../api/preset-view.js');
      const listing = options.api
        ? await client({ api: options.api }).request<ReturnType<typeof presetList>>(
            'GET',
            '/v1/presets',
          )
        : presetList(loadConfig().catalog);
      process.exitCode = runPresets(name, options, listing);
    });

  // A usage error prints commander's one line and a hint, not the whole help.
  program.showHelpAfterError('(mediaflow --help lists the commands)');
  for (const command of program.commands)
    command.showHelpAfterError(`(mediaflow ${command.name()} --help for usage)`);
  return program;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(
      `Expected a port number (0-65535) for --port but received ${JSON.stringify(value)}`,
    );
  return port;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    if (error instanceof ApiRequestError) {
      process.stderr.write(`mediaflow: ${error.code}: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    const record = toErrorRecord(error);
    process.stderr.write(`mediaflow: ${record.code}: ${record.message}\n`);
    const status = ERROR_CODES[record.code].status;
    process.exitCode =
      record.code === 'CONFIG_INVALID'
        ? EXIT.CONFIG
        : status === 503 || record.code === 'BINARY_MISSING' || record.code === 'BINARY_OUTDATED'
          ? EXIT.UNAVAILABLE
          : status === 400
            ? EXIT.USAGE
            : EXIT.JOB_FAILED;
  }
}

// Only run when executed, not when imported (tests import COMMANDS and buildProgram).
if (process.argv[1] && /mediaflow(\.js)?$|main\.[jt]s$/.test(process.argv[1])) await main();
