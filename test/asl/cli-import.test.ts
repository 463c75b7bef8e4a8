/** `stepwise asl import <file>` against a running server: creates, then updates; refuses bad files locally. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startAwsHarness, type AwsHarness } from './aws-harness.js';

let h: AwsHarness;
const dir = mkdtempSync(join(tmpdir(), 'stepwise-asl-cli-'));
beforeAll(async () => {
  h = await startAwsHarness({ token: 'cli-token' });
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), env: { STEPWISE_URL: `http://127.0.0.1:${h.port}`, STEPWISE_TOKEN: 'cli-token' } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('stepwise asl import', () => {
  it('creates the state machine named after the file, then updates it', async () => {
    const file = join(dir, 'greeter.asl.json');
    writeFileSync(file, JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 1, End: true } } }));
    const first = await run(['asl', 'import', file]);
    expect(first).toMatchObject({ code: 0, out: 'created arn:aws:states:local:000000000000:stateMachine:greeter' });
    writeFileSync(file, JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 2, End: true } } }));
    const second = await run(['asl', 'import', file]);
    expect(second).toMatchObject({ code: 0, out: 'updated arn:aws:states:local:000000000000:stateMachine:greeter' });
    expect((await h.registry.get('greeter'))!.revisions).toHaveLength(2);
  });

  it('refuses an invalid definition before calling the server, naming the state and field', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass' } } }));
    const res = await run(['asl', 'import', file]);
    expect(res.code).toBe(1);
    expect(res.err).toContain("INVALID_DEFINITION: ");
    expect(res.err).toContain("state 'P', field 'Next'");
    expect(await h.registry.get('bad')).toBeUndefined();
  });

  it('reports a server refusal (a Resource with no handler) with its AWS error name', async () => {
    const file = join(dir, 'needs-handler.json');
    writeFileSync(file, JSON.stringify({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'nobody', End: true } } }));
    const res = await run(['asl', 'import', file]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^InvalidDefinition: .*no handler is registered as 'nobody'/);
  });

  it('answers usage errors with exit code 2', async () => {
    expect((await run(['asl', 'export'])).code).toBe(2);
    expect((await run(['asl', 'import'])).code).toBe(2);
  });
});
