/**
 * One error catalog, complete: src/core/errors.ts (ErrorCodes for the API, StepErrorCodes for the
 * step failures the engine assigns), docs/errors.md and the codes the source actually uses must
 * agree. The source is scanned: every `Stepwise.*` code written anywhere under src/ (code,
 * comments, the page script), and every API error code in an error-code position (the first
 * argument of an error constructor or factory, a `code:` property, a comparison with a `code`, a
 * value typed ErrorCode) must be in the catalog, and every catalog code must be used.
 * src/cli is left out of the API-code scan: its codes (USAGE, ADDRESS_IN_USE, ...) are the CLI's
 * own, listed in docs/http-api.md. So is src/serve: its start-up codes are ServeErrorCodes, which
 * docs/errors.md lists in a table of their own (checked below). So is src/asl/aws: the AWS wire
 * protocol answers with AWS's own error names and diagnostic codes (docs/step-functions.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, ServeErrorCodes, StepErrorCodes } from '../../src/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');

const sources = listTs(join(ROOT, 'src')).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));
const apiScanned = sources.filter((s) => !s.path.startsWith('src/cli/') && !s.path.startsWith('src/serve/') && !s.path.startsWith('src/asl/aws/'));

const apiCodes = new Set(Object.keys(ErrorCodes));
const stepCodes = new Set<string>(Object.values(StepErrorCodes));
/** Codes from outside that code positions compare with: Node errno, SQLite, fastify, llhttp, Node internals. */
const FOREIGN = /^(E[A-Z]+|SQLITE_[A-Z_]+|FST_[A-Z_]+|HPE_[A-Z_]+|ERR_[A-Z_]+)$/;
const LOOKS_LIKE_API_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return listTs(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

interface Use { code: string; where: string }

/** `Stepwise.<Name>` anywhere in the text. */
function stepCodeUses(): Use[] {
  return sources.flatMap(({ path, text }) =>
    [...text.matchAll(/\bStepwise\.([A-Z][A-Za-z]*)\b/g)].map((m) => ({ code: m[0], where: `${path}:${lineOf(text, m.index)}` })));
}

/** String literals in API error-code positions (see the file comment). */
function apiCodeUses(): Use[] {
  const uses: Use[] = [];
  for (const { path, text } of apiScanned) {
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const collect = (node: ts.Node | undefined) => {
      if (!node) return;
      const visit = (n: ts.Node) => {
        if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) {
          uses.push({ code: n.text, where: `${path}:${file.getLineAndCharacterOfPosition(n.getStart()).line + 1}` });
        }
        ts.forEachChild(n, visit);
      };
      visit(node);
    };
    const walk = (node: ts.Node) => {
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments?.length) {
        const callee = node.expression.getText(file);
        if (/Error$/i.test(callee) || callee === 'super') collect(node.arguments[0]);
      }
      if (ts.isPropertyAssignment(node) && node.name.getText(file) === 'code') collect(node.initializer);
      if ((ts.isVariableDeclaration(node) || ts.isPropertyDeclaration(node) || ts.isParameter(node)) && node.type?.getText(file).includes('ErrorCode')) {
        collect(node.initializer);
      }
      ts.forEachChild(node, walk);
    };
    walk(file);
    // Comparisons with a code, also inside the page script (a string to the AST).
    for (const m of text.matchAll(/\bcode\s*[!=]==?\s*['"]([^'"]+)['"]|['"]([^'"]+)['"]\s*[!=]==?\s*[\w.]*\bcode\b/g)) {
      uses.push({ code: m[1] ?? m[2]!, where: `${path}:${lineOf(text, m.index)}` });
    }
  }
  return uses.filter((u) => LOOKS_LIKE_API_CODE.test(u.code) && !FOREIGN.test(u.code));
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

describe('the error catalog, docs/errors.md and the source agree', () => {
  it('docs/errors.md lists every API code with its status and summary, and nothing else', () => {
    const rows = [...doc.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    const catalog = Object.entries(ErrorCodes).map(([code, e]) => [code, e.status, e.summary]);
    expect(rows.sort()).toEqual(catalog.sort());
  });

  it('docs/errors.md lists every engine-assigned step code, and nothing else', () => {
    const rows = [...doc.matchAll(/^\| (Stepwise\.[A-Za-z]+) \| .+ \|$/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...stepCodes].sort());
  });

  it('every Stepwise.* code written under src/ is in the catalog, and every catalog step code is used', () => {
    const uses = stepCodeUses();
    expect(uses.filter((u) => !stepCodes.has(u.code)), 'Stepwise.* codes missing from StepErrorCodes').toEqual([]);
    // Used: referenced through the catalog, or written out, somewhere other than its catalog entry.
    const catalogFile = 'src/core/errors.ts';
    for (const [key, code] of Object.entries(StepErrorCodes)) {
      const used = sources.some(({ path, text }) =>
        text.includes(`StepErrorCodes.${key}`) || (path !== catalogFile && text.includes(`'${code}'`)));
      expect(used, `${code} is in the catalog but nothing under src/ raises it`).toBe(true);
    }
  });

  it('every API error code used under src/ is in the catalog, and every catalog code is used', () => {
    const uses = apiCodeUses();
    expect(uses.filter((u) => !apiCodes.has(u.code)), 'API error codes missing from ErrorCodes').toEqual([]);
    const used = new Set(uses.map((u) => u.code));
    expect([...apiCodes].filter((c) => !used.has(c)), 'catalog codes nothing under src/ raises').toEqual([]);
  });

  it('docs/errors.md lists every start-up code of serve() with its exit code, and nothing else', () => {
    const section = doc.slice(doc.indexOf('## Start-up errors'), doc.indexOf('## Step errors'));
    const rows = [...section.matchAll(/^\| ([A-Z_]+) \| (\d) \| .+ \|$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows.sort()).toEqual(Object.entries(ServeErrorCodes).sort());
  });
});
