/** `stepwise init`: what it writes and what it refuses (the pack test runs the project it writes). */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/client.js';
import { packageNameFor, scaffold } from '../../src/cli/init.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-init-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function refusal(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  throw new Error('init did not refuse');
}

describe('stepwise init', () => {
  it('writes a project into a new directory, and into an existing empty one', () => {
    const files = scaffold(join(tmp, 'fresh', 'nested'));
    expect(files.sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'src/workflows.ts', 'stepwise.config.ts', 'test/workflows.test.ts', 'tsconfig.json']);
    const pkg = JSON.parse(readFileSync(join(tmp, 'fresh', 'nested', 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'nested', private: true, type: 'module', scripts: { start: 'stepwise serve', test: 'vitest run' } });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(['@types/node', 'typescript', 'vitest']);
    mkdirSync(join(tmp, 'empty'));
    expect(scaffold(join(tmp, 'empty'))).toHaveLength(7);
  });

  it('refuses a directory that is not empty, and a file, writing nothing', () => {
    mkdirSync(join(tmp, 'busy'));
    writeFileSync(join(tmp, 'busy', 'notes.txt'), 'mine');
    const busy = refusal(() => scaffold(join(tmp, 'busy')));
    expect(busy).toMatchObject({ code: 'DIR_NOT_EMPTY', exitCode: 2 });
    expect(readdirSync(join(tmp, 'busy'))).toEqual(['notes.txt']);
    writeFileSync(join(tmp, 'a-file'), 'x');
    expect(refusal(() => scaffold(join(tmp, 'a-file'))).message).toContain('is not a directory');
    expect(existsSync(join(tmp, 'a-file', 'package.json'))).toBe(false);
  });

  it('names the package after the directory, as npm allows', () => {
    expect(packageNameFor('/x/My Shop')).toBe('my-shop');
    expect(packageNameFor('/x/_private')).toBe('private');
    expect(packageNameFor('/x/Ünïcode')).toBe('n-code');
    expect(packageNameFor('/x/...')).toBe('stepwise-app');
  });
});
