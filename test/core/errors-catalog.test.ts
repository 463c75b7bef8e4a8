import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, StepErrorCodes } from '../../src/index.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('the error catalog and docs/errors.md agree', () => {
  it('lists every code with its status, and nothing else', () => {
    const rows = [...doc.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    const catalog = Object.entries(ErrorCodes).map(([code, e]) => [code, e.status, e.summary]);
    expect(rows.sort()).toEqual(catalog.sort());
  });

  it('lists every engine-assigned step error code', () => {
    for (const code of Object.values(StepErrorCodes)) expect(doc).toContain(`| ${code} |`);
  });
});
