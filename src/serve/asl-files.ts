/**
 * Amazon States Language files served as modules (`stepwise serve orders.asl.json`), and the
 * registry the AWS protocol keeps state machines in. A file is loaded with `loadAslFile` (the
 * state machine is named after the file: `orders.asl.json` is `orders`), its Task resources
 * calling the handlers the code modules export. It is also published to the registry, as
 * `stepwise asl import` would: then the AWS protocol lists, describes and starts it, and every
 * revision stays registered after a restart, so an execution started before the file changed
 * finishes on the definition it started with.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_ROLE } from '../asl/aws/operations.js';
import { loadAslFile, openAslRegistry } from '../asl/load.js';
import { MemoryAslRegistry, type AslRegistry } from '../asl/registry/registry.js';
import type { AslHandlers } from '../asl/resources.js';
import type { Store } from '../core/store.js';
import type { Workflow } from '../dsl/workflow.js';
import { firstLine } from './config-file.js';
import { HANDLERS_EXPORT } from './module-exports.js';
import { ServeError } from './serve-error.js';

export const ASL_FILE = /\.asl\.json$/i;

/** An ASL file loaded for serving: its workflow, and the text to publish. */
export interface AslFile {
  /** As the user named it (messages quote it). */
  given: string;
  definition: string;
  workflow: Workflow;
}

/** Loads one `.asl.json` file; a bad definition or a Resource no handler answers is BAD_MODULE. */
export function loadAslModule(path: string, given: string, handlers: AslHandlers): AslFile {
  let definition: string;
  try {
    definition = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ServeError('BAD_MODULE', `cannot load workflow module ${given}: ${firstLine(err)}`);
  }
  try {
    return { given, definition, workflow: loadAslFile(path, handlers) };
  } catch (err) {
    const text = firstLine(err).replace(`${path}: `, '');
    const hint = /no handler is registered/.test(text) ? ` (export it from a module: export const ${HANDLERS_EXPORT} = { name: async (input) => ... })` : '';
    throw new ServeError('BAD_MODULE', `${given}: ${text}${hint}`);
  }
}

/**
 * Makes the registry's record for a served file hold the file's definition: created when
 * missing, and a new revision when the text changed (old revisions kept). Equal text changes
 * nothing, so restarts do not grow the record.
 */
export async function publishAslFile(registry: AslRegistry, file: AslFile): Promise<void> {
  const name = file.workflow.name;
  const version = file.workflow.version;
  const now = Date.now();
  const record = await registry.get(name);
  if (!record) {
    await registry.put({
      name, type: 'STANDARD', roleArn: DEFAULT_ROLE, definition: file.definition, createdAt: now, updatedAt: now,
      revisions: [{ version, definition: file.definition, createdAt: now }],
    });
    return;
  }
  if (record.definition === file.definition) return;
  record.definition = file.definition;
  if (!record.revisions.some((r) => r.version === version)) record.revisions.push({ version, definition: file.definition, createdAt: now });
  record.updatedAt = now;
  await registry.put(record);
}

/**
 * The registry beside the store: a PostgreSQL URL gets a table in the store's schema, an SQLite
 * file `<file>.asl.json`, `:memory:` memory. For a store given open, the SQLite file is the one
 * it has open; a PostgreSQL store given open needs its URL as `db`. Resolves undefined when there
 * is nowhere to keep it (another kind of store).
 */
export async function openRegistryBeside(store: Store, location: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<AslRegistry | undefined> {
  const withSchema = store as Store & { schema?: unknown; connection?: { name?: unknown } };
  if (store.kind === 'postgres') {
    if (location === undefined || !/^postgres(ql)?:\/\//.test(location)) return undefined;
    const schema = typeof withSchema.schema === 'string' ? withSchema.schema : env.STEPWISE_PG_SCHEMA;
    return openAslRegistry(location, schema ? { schema } : {});
  }
  if (store.kind !== 'sqlite') return undefined;
  const file = location ?? (typeof withSchema.connection?.name === 'string' ? withSchema.connection.name : undefined);
  if (file === undefined || file === '' || file === ':memory:' || /^[a-z][a-z0-9+.-]*:/i.test(file)) return new MemoryAslRegistry();
  return openAslRegistry(file);
}
