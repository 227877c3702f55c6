import fs from 'node:fs';

/** mediaflow's own version (package.json), as `--version`, the API document and workers show it. */
export const MEDIAFLOW_VERSION: string = (
  JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
