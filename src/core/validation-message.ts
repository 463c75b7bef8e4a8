/** One ajv error as far as a message needs it (fastify's request validation and input schemas). */
export interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** The path segments of an ajv error, pointing at the missing or extra property when there is one. */
export function errorPath(error: AjvError): string[] {
  const path = (error.instancePath ?? '')
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params ?? {};
  if (error.keyword === 'required') path.push(String(params.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(params.additionalProperty));
  return path;
}

/** "body.input is required", "querystring.limit must be <= 500", "input.customer.email must be string". */
export function validationMessage(context: string | undefined, errors: AjvError[]): string {
  const where = context ?? 'request';
  const first = errors[0];
  if (!first) return `${where} is invalid`;
  const field = [where, ...errorPath(first)].join('.');
  const params = first.params ?? {};
  switch (first.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `${field} is not allowed`;
    case 'enum':
      return `${field} must be one of ${(params.allowedValues as unknown[] | undefined)?.map(String).join(', ') ?? 'the allowed values'}`;
    default:
      return `${field} ${first.message ?? 'is invalid'}`;
  }
}
