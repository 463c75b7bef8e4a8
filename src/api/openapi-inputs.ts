/**
 * Adds each workflow's input schema to the OpenAPI document: a `components.schemas` entry named
 * `<workflow>Input`, and a concrete start path (`/v1/workflows/checkout/executions`) whose body
 * refers to it, so a generated client knows what each workflow takes. The generic templated
 * route stays for workflows without a schema. The document is built per request: workflows can
 * be registered after the server starts.
 */
import type { WorkflowDescriptionLike } from './engine-port.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI document is loose JSON this module walks and edits
type Json = Record<string, any>;

const START_PATH = '/v1/workflows/{name}/executions';

/** OpenAPI 3.0 has no place for these JSON Schema keys; everything else is kept as declared. */
function forOpenApi(schema: Json): Json {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

export function componentName(workflow: string): string {
  return `${workflow}Input`;
}

export function withWorkflowInputs(document: unknown, workflows: WorkflowDescriptionLike[]): unknown {
  const described = workflows.filter((w) => w.input !== undefined && typeof w.input === 'object' && w.input !== null);
  if (described.length === 0) return document;
  const doc = structuredClone(document) as Json;
  const templated = Object.keys(doc.paths ?? {}).find((p) => p.endsWith(START_PATH));
  const generic = templated ? (doc.paths[templated].post as Json | undefined) : undefined;
  doc.components = { ...(doc.components ?? {}), schemas: { ...(doc.components?.schemas ?? {}) } };
  for (const wf of described) {
    const ref = componentName(wf.name);
    doc.components.schemas[ref] = { ...forOpenApi(wf.input as Json), description: `The input of workflow '${wf.name}'.` };
    if (!templated || !generic) continue;
    const bodySchema = generic.requestBody?.content?.['application/json']?.schema as Json | undefined;
    const operation: Json = structuredClone(generic);
    operation.summary = `Start a '${wf.name}' execution`;
    operation.parameters = (operation.parameters ?? []).filter((p: Json) => !(p.in === 'path' && p.name === 'name'));
    if (bodySchema) {
      operation.requestBody.content['application/json'].schema = {
        ...bodySchema,
        properties: { ...bodySchema.properties, input: { $ref: `#/components/schemas/${ref}` } },
      };
    }
    const path = templated.replace('{name}', wf.name);
    doc.paths[path] = { ...(doc.paths[path] ?? {}), post: operation };
  }
  return doc;
}
