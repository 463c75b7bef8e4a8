import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/index.js';

/** The plain-Node verifier that docs/handlers.md shows must accept what Stepwise signs. */
const doc = readFileSync(new URL('../../docs/handlers.md', import.meta.url), 'utf8');
const block = /<!-- verifier:[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc)?.[1];
const dir = mkdtempSync(join(tmpdir(), 'stepwise-verifier-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the verifier in docs/handlers.md', () => {
  it('accepts a Stepwise signature and refuses a changed body, another secret and an old timestamp', async () => {
    expect(block).toBeDefined();
    const file = join(dir, 'verifier.mjs');
    writeFileSync(file, block!);
    const { verifyStepwiseSignature } = await import(pathToFileURL(file).href);
    const secret = 'whsec-doc-0123456789abcdef';
    const body = Buffer.from('{"input":{"amount":42},"context":{"attempt":1}}');
    const header = signatureHeader(body, secret);
    expect(verifyStepwiseSignature(body, header, secret)).toBe(true);
    expect(verifyStepwiseSignature(body.toString('utf8'), header, secret)).toBe(true);
    expect(verifyStepwiseSignature(Buffer.from(body.toString().replace('42', '43')), header, secret)).toBe(false);
    expect(verifyStepwiseSignature(body, header, 'another-secret-0123456789')).toBe(false);
    expect(verifyStepwiseSignature(body, signatureHeader(body, secret, Math.floor(Date.now() / 1000) - 301), secret)).toBe(false);
    expect(verifyStepwiseSignature(body, undefined, secret)).toBe(false);
  });
});
