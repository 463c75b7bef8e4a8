import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/core/uuid7.js';

describe('uuidv7 (execution ids)', () => {
  it('is a valid RFC 9562 version 7 UUID carrying its millisecond', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('ids made one after another sort in that order: within a millisecond, across them, and when the clock steps back', () => {
    const base = Date.now() + 10_000;
    const ids = [
      ...Array.from({ length: 500 }, () => uuidv7(base)),
      ...Array.from({ length: 500 }, () => uuidv7(base + 1)),
      ...Array.from({ length: 100 }, () => uuidv7(base - 5_000)),
      uuidv7(base + 2),
    ];
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
