import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signatures for HTTP functions (docs/handlers.md#signatures). The engine signs every
 * call; a function checks the signature before trusting the body:
 *
 *   stepwise-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of `${t}.${raw body}`>
 *
 * The timestamp is inside the signed bytes, so a captured request cannot be replayed once the
 * tolerance has passed; the raw body bytes are signed, never re-serialised JSON, so any language
 * can verify what it received. A header may hold several v1 values (one per secret while a
 * secret is rotated); one match is enough.
 */
export const SIGNATURE_HEADER = 'stepwise-signature';

/** How far a signature's timestamp may be from the verifier's clock, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The header value for `rawBody`, signed now (or at `timestampSeconds`) with each secret. */
export function signatureHeader(rawBody: string | Uint8Array, secrets: string | readonly string[], timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${timestampSeconds}`, ...list.map((secret) => `v1=${hmacHex(secret, timestampSeconds, rawBody)}`)].join(',');
}

export interface VerifyOptions {
  /** The verifier's clock, in ms since the epoch. @default Date.now() */
  now?: number;
  /** @default 300 */
  toleranceSeconds?: number;
}

/**
 * True when `header` carries a v1 signature of `rawBody` by one of `secrets`, made within the
 * tolerance of now. Pass the body exactly as it arrived (a Buffer or the undecoded string), not
 * JSON parsed and stringified again. Comparisons take constant time.
 */
export function verifySignature(
  rawBody: string | Uint8Array,
  header: string | string[] | null | undefined,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  const tolerance = options.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs((options.now ?? Date.now()) / 1000 - timestamp) > tolerance) return false;
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  let matched = false;
  for (const secret of list) {
    if (typeof secret !== 'string' || secret.length === 0) continue;
    const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), 'hex');
    // Every candidate is compared against every secret, so the time taken says nothing about which matched.
    for (const candidate of candidates) matched = timingSafeEqual(candidate, expected) || matched;
  }
  return matched;
}

function hmacHex(secret: string, timestampSeconds: number, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
}
