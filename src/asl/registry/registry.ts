/**
 * Where state machines created over the AWS protocol are kept: a narrow port of its own, apart
 * from the execution Store, so it evolves without touching the Store. Each record keeps every
 * revision's definition: an execution runs to its end on the version it started with, so after a
 * restart the old revisions are registered with the engine again.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface StateMachineRevision {
  /** The Stepwise workflow version (a hash of the definition). */
  version: string;
  definition: string;
  createdAt: number;
}

export interface StateMachineRecord {
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  roleArn: string;
  /** The current definition's text, as given. */
  definition: string;
  createdAt: number;
  updatedAt: number;
  revisions: StateMachineRevision[];
}

export interface AslRegistry {
  list(): Promise<StateMachineRecord[]>;
  get(name: string): Promise<StateMachineRecord | undefined>;
  /** Inserts or replaces the record named `record.name`. */
  put(record: StateMachineRecord): Promise<void>;
  /** True when a record was removed. */
  delete(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Keeps records in memory: for tests and `:memory:` databases. */
export class MemoryAslRegistry implements AslRegistry {
  protected readonly records = new Map<string, StateMachineRecord>();

  async list(): Promise<StateMachineRecord[]> {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name)).map((r) => structuredClone(r));
  }

  async get(name: string): Promise<StateMachineRecord | undefined> {
    const r = this.records.get(name);
    return r && structuredClone(r);
  }

  async put(record: StateMachineRecord): Promise<void> {
    this.records.set(record.name, structuredClone(record));
    this.persist();
  }

  async delete(name: string): Promise<boolean> {
    const removed = this.records.delete(name);
    if (removed) this.persist();
    return removed;
  }

  async close(): Promise<void> {}

  protected persist(): void {}
}

/**
 * Keeps records in a JSON file next to an SQLite database (`<db>.asl.json`). The SQLite file is
 * owned by the Store; a file of its own needs no second connection. Each change writes a
 * temporary file and renames it over the old one, so a crash leaves the old or the new file,
 * never half of one.
 */
export class JsonFileAslRegistry extends MemoryAslRegistry {
  constructor(private readonly path: string) {
    super();
    if (existsSync(path)) {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { stateMachines?: StateMachineRecord[] };
      for (const r of parsed.stateMachines ?? []) this.records.set(r.name, r);
    }
  }

  protected override persist(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ stateMachines: [...this.records.values()] }, null, 2));
    renameSync(tmp, this.path);
  }
}

/** The registry file for an SQLite database path; `:memory:` gets a memory registry. */
export function registryForSqlite(dbPath: string): AslRegistry {
  return dbPath === ':memory:' ? new MemoryAslRegistry() : new JsonFileAslRegistry(`${dbPath}.asl.json`);
}
