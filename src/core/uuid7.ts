/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 32-bit sequence seeded at random each
 * millisecond and counted up within it (so ids made by one process sort in the order they were
 * made), then random bits. The same layout and sequence rule as the `uuid` package's v7(), which
 * this replaces in the engine: that package is ~20 ES modules, and loading them was ~5% of
 * `stepwise serve`'s start-up CPU for one function (docs/performance.md, cold start).
 */
import { randomFillSync } from 'node:crypto';

const random = new Uint8Array(16);
const bytes = new Uint8Array(16);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let lastMs = -Infinity;
let seq = 0;

export function uuidv7(now: number = Date.now()): string {
  randomFillSync(random);
  if (now > lastMs) {
    seq = ((random[6] & 0x7f) << 24) | (random[7] << 16) | (random[8] << 8) | random[9];
    lastMs = now;
  } else {
    // Same (or an earlier: the clock stepped back) millisecond: count up; on overflow borrow the next one.
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  const ms = lastMs;
  bytes[0] = (ms / 0x10000000000) & 0xff;
  bytes[1] = (ms / 0x100000000) & 0xff;
  bytes[2] = (ms / 0x1000000) & 0xff;
  bytes[3] = (ms / 0x10000) & 0xff;
  bytes[4] = (ms / 0x100) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((seq >>> 28) & 0x0f);
  bytes[7] = (seq >>> 20) & 0xff;
  bytes[8] = 0x80 | ((seq >>> 14) & 0x3f);
  bytes[9] = (seq >>> 6) & 0xff;
  bytes[10] = ((seq << 2) & 0xff) | (random[10] & 0x03);
  for (let i = 11; i < 16; i++) bytes[i] = random[i];
  const h = (from: number, to: number) => {
    let s = '';
    for (let i = from; i < to; i++) s += HEX[bytes[i]];
    return s;
  };
  return `${h(0, 4)}-${h(4, 6)}-${h(6, 8)}-${h(8, 10)}-${h(10, 16)}`;
}
