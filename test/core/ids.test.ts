import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { isValidExecutionId, newExecutionId } from '../../src/core/ids.js';

describe('newExecutionId', () => {
  it('makes UUIDv7s (version 7, RFC variant, the current time) that sort in the order they were made', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5000 }, () => newExecutionId());
    const after = Date.now();
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isValidExecutionId(id)).toBe(true);
      // The uuid package's own reading of the same text.
      expect(validate(id) && version(id)).toBe(7);
    }
    const ms = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms(ids[0])).toBeGreaterThanOrEqual(before);
    expect(ms(ids[ids.length - 1])).toBeLessThanOrEqual(after + 1);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
