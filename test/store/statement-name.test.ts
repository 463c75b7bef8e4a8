import { describe, expect, it } from 'vitest';
import { statementName } from '../../src/persistence/postgres/driver.js';

describe('prepared statement names on PostgreSQL (63 bytes at most there)', () => {
  it('keeps a short name and hashes a long one, one name each', () => {
    expect(statementName('stepwise.commit')).toBe('stepwise.commit');
    const a = statementName(`${'s'.repeat(40)}.claim.child,outside,start,stop,timer`);
    const b = statementName(`${'s'.repeat(40)}.claim.child,outside,start,stop,task`);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(statementName(`${'s'.repeat(40)}.claim.child,outside,start,stop,timer`)).toBe(a);
  });
});
