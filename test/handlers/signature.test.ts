import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../src/index.js';

const SECRET = 'whsec-test-0123456789abcdef';
const BODY = '{"input":{"amount":42},"context":{"executionId":"e-1"}}';
const T = 1_700_000_000;
const AT_T = { now: T * 1000 };

describe('request signatures', () => {
  it('is HMAC-SHA256 over "<t>.<raw body>", as docs/handlers.md shows', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signatureHeader(BODY, SECRET, T)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies the raw body as a string or as bytes', () => {
    const header = signatureHeader(BODY, SECRET, T);
    expect(verifySignature(BODY, header, SECRET, AT_T)).toBe(true);
    expect(verifySignature(Buffer.from(BODY), header, SECRET, AT_T)).toBe(true);
  });

  it('refuses a changed body, another secret, a malformed or missing header', () => {
    const header = signatureHeader(BODY, SECRET, T);
    expect(verifySignature(BODY.replace('42', '4200'), header, SECRET, AT_T)).toBe(false);
    expect(verifySignature(BODY, header, 'another-secret-0123456789', AT_T)).toBe(false);
    expect(verifySignature(BODY, header.replace(/v1=\w+/, 'v1=abc'), SECRET, AT_T)).toBe(false);
    expect(verifySignature(BODY, `v1=${header.split('v1=')[1]}`, SECRET, AT_T)).toBe(false);
    expect(verifySignature(BODY, undefined, SECRET, AT_T)).toBe(false);
    expect(verifySignature(BODY, [header, header], SECRET, AT_T)).toBe(false);
    expect(verifySignature(BODY, header, '', AT_T)).toBe(false);
  });

  it('refuses a signature more than five minutes old or ahead (a replayed request)', () => {
    const header = signatureHeader(BODY, SECRET, T);
    expect(verifySignature(BODY, header, SECRET, { now: (T + 300) * 1000 })).toBe(true);
    expect(verifySignature(BODY, header, SECRET, { now: (T + 301) * 1000 })).toBe(false);
    expect(verifySignature(BODY, header, SECRET, { now: (T - 301) * 1000 })).toBe(false);
    expect(verifySignature(BODY, header, SECRET, { now: (T + 3600) * 1000, toleranceSeconds: 3600 })).toBe(true);
  });

  it('accepts the old or the new secret while a secret is rotated', () => {
    const fromOld = signatureHeader(BODY, 'old-secret-0123456789', T);
    const fromBoth = signatureHeader(BODY, ['new-secret-0123456789', 'old-secret-0123456789'], T);
    expect(verifySignature(BODY, fromOld, ['new-secret-0123456789', 'old-secret-0123456789'], AT_T)).toBe(true);
    expect(verifySignature(BODY, fromBoth, 'new-secret-0123456789', AT_T)).toBe(true);
    expect(verifySignature(BODY, fromBoth, 'old-secret-0123456789', AT_T)).toBe(true);
    expect(verifySignature(BODY, fromOld, 'new-secret-0123456789', AT_T)).toBe(false);
  });
});
