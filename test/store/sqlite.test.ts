import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
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
