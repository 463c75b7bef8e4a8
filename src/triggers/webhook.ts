import { DefinitionChecks } from './definition-checks.js';
import { executionIdRuleProblem } from './message.js';
import type { SignatureStyle } from './webhook-signature.js';

/** A delivery as a webhook's own functions see it. */
export interface WebhookRequest {
  /** The hook's name. */
  hook: string;
  /** Request headers, names lower-cased, first value of each. */
  headers: Readonly<Record<string, string>>;
  /** The raw body bytes (what the signature covers). */
  body: Uint8Array;
}

/**
 * Where a delivery's id comes from: a header, a field of the JSON body (dot path), or a function.
 * The execution id is `hook.<name>:<delivery id>`, so a redelivery starts nothing new.
 */
export type DeliveryIdRule = { header: string } | { field: string } | ((body: unknown, request: WebhookRequest) => string | undefined);

export interface WebhookOptions {
  /** The hook's name: POST /v1/hooks/<name>. */
  name: string;
  /** The workflow a delivery starts. */
  workflow: string;
  /** The shared secret (at least 16 characters); several while rotating, any of which may sign. */
  secret: string | readonly string[];
  /**
   * How deliveries are signed. @default { style: 'github' }. The header defaults to the style's
   * own (X-Hub-Signature-256, Stripe-Signature); Stripe's timestamp tolerance to 300 s.
   */
  signature?: { style?: SignatureStyle; header?: string; toleranceSeconds?: number };
  /** @default GitHub: the X-GitHub-Delivery header; Stripe: the body's `id` (the event id) */
  deliveryId?: DeliveryIdRule;
  /** Maps the parsed JSON body to the execution input (or a promise of it); throw to refuse the delivery (400). @default the body */
  input?: (body: unknown, request: WebhookRequest) => unknown;
  /** Largest body accepted, in bytes. @default 1 MiB */
  maxBodyBytes?: number;
}

/** A webhook, checked and with its defaults filled; served by the hooks route. */
export interface Webhook {
  readonly kind: 'hook';
  readonly name: string;
  readonly workflow: string;
  readonly secrets: readonly string[];
  readonly style: SignatureStyle;
  /** Lower-cased. */
  readonly signatureHeader: string;
  readonly toleranceSeconds: number;
  readonly deliveryId: DeliveryIdRule;
  readonly input?: (body: unknown, request: WebhookRequest) => unknown;
  readonly maxBodyBytes: number;
}

export const DEFAULT_HOOK_BODY_LIMIT = 1024 * 1024;
const MIN_SECRET_LENGTH = 16;
const KNOWN = ['name', 'workflow', 'secret', 'signature', 'deliveryId', 'input', 'maxBodyBytes'] as const;

/**
 * Defines a webhook: `POST /v1/hooks/<name>` with a valid signature starts `workflow`. See
 * docs/triggers.md#webhooks. Throws INVALID_DEFINITION when an option is wrong.
 */
export function webhook(options: WebhookOptions): Webhook {
  const check = new DefinitionChecks('webhook', options as unknown as Record<string, unknown>);
  check.onlyKnown(KNOWN);
  check.identifier('name');
  check.identifier('workflow');
  const secrets = typeof options.secret === 'string' ? [options.secret] : Array.isArray(options.secret) ? [...options.secret] : [];
  if (secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)) {
    check.problem(`secret must be a string of at least ${MIN_SECRET_LENGTH} characters (or a non-empty list of them)`);
  }
  const signature = options.signature ?? {};
  const style = signature.style ?? 'github';
  if (style !== 'github' && style !== 'stripe') check.problem("signature.style must be 'github' or 'stripe'");
  const header = signature.header ?? (style === 'stripe' ? 'stripe-signature' : 'x-hub-signature-256');
  if (typeof header !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/.test(header)) check.problem('signature.header must be a header name');
  const toleranceSeconds = signature.toleranceSeconds ?? 300;
  if (!(Number.isInteger(toleranceSeconds) && toleranceSeconds >= 1 && toleranceSeconds <= 86_400)) {
    check.problem('signature.toleranceSeconds must be an integer from 1 to 86400');
  }
  const deliveryId: DeliveryIdRule = options.deliveryId ?? (style === 'stripe' ? { field: 'id' } : { header: 'x-github-delivery' });
  if (executionIdRuleProblem(deliveryId)) check.problem("deliveryId must be { header: 'name' }, { field: 'path' } or a function");
  check.fn('input');
  check.positiveInt('maxBodyBytes', 64 * 1024 * 1024);
  check.done();
  return Object.freeze({
    kind: 'hook' as const,
    name: options.name,
    workflow: options.workflow,
    secrets: Object.freeze(secrets),
    style,
    signatureHeader: header.toLowerCase(),
    toleranceSeconds,
    deliveryId,
    ...(options.input ? { input: options.input } : {}),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_HOOK_BODY_LIMIT,
  });
}
