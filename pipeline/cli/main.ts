import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { toErrorRecord, ERROR_CODES } from '../../functions/errors.js';
import { loadConfig, type Config } from '../config/load.js';
import { createLogger } from '../log.js';
import { runDemo } from './demo.js';
import { EXIT } from './exit-codes.js';
import { runProcess } from './process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The CLI's command names, checked against the deployment files by the infra tests. */
export const COMMANDS = ['demo', 'process'] as const;

/** CLI runs print progress, not logs, unless a log level was asked for. */
function cliConfig(): { config: Config; log: ReturnType<typeof createLogger> } {
  const config = loadConfig();
  const level = process.env.MEDIAFLOW_LOG_LEVEL ? config.logLevel : 'warn';
  return { config, log: createLogger(level) };
}

export function buildProgram(): Command {
  const program = new Command('mediaflow')
    .description('Event-driven media processing for object storage: uploads become web-ready images, HLS ladders and MP4 renditions.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('demo')
    .description('Run the embedded demo: start a local S3 server, upload samples/, let the upload events trigger jobs, print the outputs')
    .option('--samples <dir>', 'folder of sample media to upload', path.join(ROOT, 'samples'))
    .action(async (options: { samples: string }) => {
      const { config, log } = cliConfig();
      process.exitCode = await runDemo(config, log, path.resolve(options.samples));
    });

  program
    .command('process')
    .description('Process local files through the same pipeline (embedded) and copy outputs and manifest to --out/<file name>/')
    .argument('<file...>', 'media files')
    .option('--preset <name>', 'preset name (default: chosen from the media type)')
    .option('--out <dir>', 'output folder', 'mediaflow-out')
    .option('--json', 'print one JSON report on stdout', false)
    .action(async (files: string[], options: { preset?: string; out: string; json: boolean }) => {
      const { config, log } = cliConfig();
      process.exitCode = await runProcess(files, options, config, log);
    });

  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    const record = toErrorRecord(error);
    process.stderr.write(`mediaflow: ${record.code}: ${record.message}\n`);
    process.exitCode = record.code === 'CONFIG_INVALID' ? EXIT.CONFIG : ERROR_CODES[record.code].status === 503 || record.code === 'BINARY_MISSING' ? EXIT.UNAVAILABLE : EXIT.JOB_FAILED;
  }
}

// Only run when executed, not when imported (tests import COMMANDS and buildProgram).
if (process.argv[1] && /mediaflow(\.js)?$|main\.[jt]s$/.test(process.argv[1])) await main();
