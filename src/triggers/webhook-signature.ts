import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a sender signs a delivery, both HMAC-SHA256 over the raw body bytes as they arrived (never
 * over re-serialised JSON, which would not be the same bytes):
 * - 'github': header `sha256=<hex of HMAC(secret, body)>` (X-Hub-Signature-256);
 * - 'stripe': header `t=<unix seconds>,v1=<hex of HMAC(secret, "<t>." + body)>[,v1=...]`
 *   (Stripe-Signature); the timestamp must be within the tolerance of now, so a captured
 *   delivery cannot be replayed later.
 */
export type SignatureStyle = 'github' | 'stripe';

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

const HEX_64 = /^[0-9a-fA-F]{64}$/;

/**
 * Checks a delivery's signature header against every secret (more than one while a secret is
 * being rotated). Digests are compared with timingSafeEqual on fixed-length buffers, so the time
 * taken says nothing about how much of a forged signature was right.
 */
export function verifySignature(
  style: SignatureStyle,
  header: string | undefined,
  body: Uint8Array,
  secrets: readonly string[],
  options: { nowMs: number; toleranceSeconds: number },
): SignatureCheck {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'the signature header is missing' };
  return style === 'github' ? verifyGitHub(header.trim(), body, secrets) : verifyStripe(header, body, secrets, options);
}

function verifyGitHub(header: string, body: Uint8Array, secrets: readonly string[]): SignatureCheck {
  const match = /^sha256=(.*)$/.exec(header);
  if (!match || !HEX_64.test(match[1]!)) return { ok: false, reason: "the signature must be 'sha256=' and 64 hex digits" };
  const given = Buffer.from(match[1]!, 'hex');
  return anyMatches([given], secrets, (secret) => hmac(secret, [body]));
}

function verifyStripe(header: string, body: Uint8Array, secrets: readonly string[], options: { nowMs: number; toleranceSeconds: number }): SignatureCheck {
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && timestamp === undefined) timestamp = value;
    else if (key === 'v1' && HEX_64.test(value) && signatures.length < 8) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "the signature has no 't=<unix seconds>' timestamp" };
  if (signatures.length === 0) return { ok: false, reason: "the signature has no 'v1=' with 64 hex digits" };
  const ageSeconds = Math.abs(options.nowMs / 1000 - Number(timestamp));
  if (ageSeconds > options.toleranceSeconds) return { ok: false, reason: `the signature's timestamp is more than ${options.toleranceSeconds} s from now` };
  const prefix = Buffer.from(`${timestamp}.`, 'utf8');
  return anyMatches(signatures, secrets, (secret) => hmac(secret, [prefix, body]));
}

function anyMatches(given: readonly Buffer[], secrets: readonly string[], expected: (secret: string) => Buffer): SignatureCheck {
  let ok = false;
  // Every comparison runs, whichever matches first.
  for (const secret of secrets) {
    const want = expected(secret);
    for (const signature of given) ok = timingSafeEqual(signature, want) || ok;
  }
  return ok ? { ok: true } : { ok: false, reason: 'the signature does not match the body' };
}

function hmac(secret: string, parts: readonly Uint8Array[]): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}
