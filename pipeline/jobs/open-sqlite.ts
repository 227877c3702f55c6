import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MediaflowError } from '../../functions/errors.js';

/**
 * Opens one of the embedded mode's SQLite files (`file` is a path, or ':memory:' for tests) and
 * runs `setup` (schema, migrations) on it. A file that cannot be opened is a configuration error
 * naming `what` and MEDIAFLOW_DATA_DIR.
 */
export function openSqlite(
  file: string,
  what: string,
  setup: (db: Database.Database) => void,
): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const db = new Database(file);
    // WAL: readers never wait for the writer; NORMAL sync is safe with WAL and much faster.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    setup(db);
    return db;
  } catch (error) {
    throw new MediaflowError(
      'CONFIG_INVALID',
      `Cannot open the ${what} ${file}: ${(error as Error).message} (MEDIAFLOW_DATA_DIR)`,
      { cause: error },
    );
  }
}
