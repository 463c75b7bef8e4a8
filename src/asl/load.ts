/**
 * Loading ASL definitions from files, for `serve` and scripts: `orders.asl.json` becomes the
 * workflow `orders`. Errors name the file.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PostgresAslRegistry } from './registry/postgres-registry.js';
import { registryForSqlite, type AslRegistry } from './registry/registry.js';
import { aslWorkflow, type AslWorkflowOptions } from './asl-workflow.js';
import type { AslHandlers } from './resources.js';
import { AslDefinitionError } from './validate.js';
import type { Workflow } from '../dsl/workflow.js';

/** The workflow name a definition file stands for: its base name without `.asl.json` or `.json`. */
export function workflowNameOf(path: string): string {
  return basename(path).replace(/\.asl\.json$|\.json$/i, '');
}

/** Reads, checks and translates one `.asl.json` file (throws AslDefinitionError naming the file). */
export function loadAslFile(path: string, handlers: AslHandlers, options: Omit<AslWorkflowOptions, 'handlers'> & { name?: string } = {}): Workflow<unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AslDefinitionError(`${path}: cannot read the file: ${(error as Error).message}`);
  }
  try {
    return aslWorkflow(options.name ?? workflowNameOf(path), text, { ...options, handlers });
  } catch (error) {
    if (error instanceof AslDefinitionError) throw new AslDefinitionError(`${path}: ${error.message}`, error.state, error.field);
    throw error;
  }
}

/**
 * The registry for state machines created over the AWS protocol, next to a store given as
 * `STEPWISE_DB` is: a PostgreSQL URL gets a table in the same schema, an SQLite path a
 * `<path>.asl.json` file, `:memory:` a memory registry.
 */
export async function openAslRegistry(db: string, options: { schema?: string } = {}): Promise<AslRegistry> {
  if (/^postgres(ql)?:\/\//.test(db)) return PostgresAslRegistry.open(db, options);
  return registryForSqlite(db);
}
