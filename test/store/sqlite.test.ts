import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/persistence/sqlite/sqlite-store.js';
import { describeStoreContract } from './contract.js';

describe('SqliteStore', () => {
  describeStoreContract(
    'sqlite (memory)',
    () => SqliteStore.open(':memory:'),
    (store) => store.close(),
  );

  const dir = mkdtempSync(join(tmpdir(), 'stepwise-store-'));
  let n = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  describeStoreContract(
    'sqlite (file)',
    () => SqliteStore.open(join(dir, `store-${++n}.db`)),
    (store) => store.close(),
  );
});

describe('SQLite migrations', () => {
  it('refuses a database written by a newer Stepwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-newer-'));
    try {
      const path = join(dir, 'x.db');
      const store = await SqliteStore.open(path);
      store.connection.pragma('user_version = 99');
      await store.close();
      await expect(SqliteStore.open(path)).rejects.toThrow(/schema version 99, newer than this Stepwise knows/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
