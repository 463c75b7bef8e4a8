/**
 * A recursive-descent parser for ASL intrinsic function calls such as
 * `States.Format('Hello, {}!', States.ArrayGetItem($.names, 0))`. It reads string literals with
 * their escapes (`\'`, `\{`, `\}`, `\\`), numbers, booleans, null, JSONPaths (`$.a['b c'][0]`,
 * `$$.Execution.Id`) and nested calls, and refuses anything else with a message naming the column.
 */

export type IntrinsicArg =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'path'; path: string }
  | { kind: 'call'; name: string; args: IntrinsicArg[] };

export class IntrinsicSyntaxError extends Error {}

/** Whether a `.$` field's value is an intrinsic call rather than a path. */
export function looksLikeIntrinsic(text: string): boolean {
  return /^States\.[A-Za-z0-9]+\s*\(/.test(text.trim());
}

export function parseIntrinsic(text: string): Extract<IntrinsicArg, { kind: 'call' }> {
  const parser = new Parser(text);
  const call = parser.call();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail('unexpected text after the closing parenthesis');
  return call;
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  fail(why: string): never {
    throw new IntrinsicSyntaxError(`invalid intrinsic function '${this.src}': ${why} at column ${this.pos + 1}`);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.src[this.pos])) this.pos++;
  }

  call(): Extract<IntrinsicArg, { kind: 'call' }> {
    this.skipSpace();
    const m = /^States\.[A-Za-z0-9]+/.exec(this.src.slice(this.pos));
    if (!m) this.fail("expected a function name such as 'States.Format'");
    this.pos += m[0].length;
    this.skipSpace();
    if (this.src[this.pos] !== '(') this.fail("expected '('");
    this.pos++;
    const args: IntrinsicArg[] = [];
    this.skipSpace();
    if (this.src[this.pos] === ')') {
      this.pos++;
      return { kind: 'call', name: m[0], args };
    }
    for (;;) {
      args.push(this.arg());
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ')') {
        this.pos++;
        return { kind: 'call', name: m[0], args };
      }
      this.fail(this.atEnd() ? "missing ')'" : "expected ',' or ')'");
    }
  }

  private arg(): IntrinsicArg {
    this.skipSpace();
    const c = this.src[this.pos];
    if (c === "'") return { kind: 'literal', value: this.string() };
    if (c === '$') return { kind: 'path', path: this.path() };
    if (this.src.startsWith('States.', this.pos)) return this.call();
    const word = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?![A-Za-z0-9_])/.exec(this.src.slice(this.pos));
    if (!word) this.fail('expected a string, number, boolean, null, path or function');
    this.pos += word[0].length;
    return { kind: 'literal', value: JSON.parse(word[0]) as number | boolean | null };
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    while (!this.atEnd()) {
      const c = this.src[this.pos];
      if (c === '\\') {
        const next = this.src[this.pos + 1];
        if (next === undefined) this.fail('a backslash ends the text');
        // `\{` and `\}` stay escaped so States.Format can tell them from placeholders.
        out += next === '{' || next === '}' ? `\\${next}` : next;
        this.pos += 2;
        continue;
      }
      if (c === "'") {
        this.pos++;
        return out;
      }
      out += c;
      this.pos++;
    }
    return this.fail('unterminated string');
  }

  /** A path runs until a ',' or ')' outside brackets and quotes. */
  private path(): string {
    const start = this.pos;
    let depth = 0;
    let quote: string | undefined;
    while (!this.atEnd()) {
      const c = this.src[this.pos];
      if (quote) {
        if (c === '\\') this.pos++;
        else if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '[' || c === '(') depth++;
      else if (c === ']' || c === ')') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
      this.pos++;
    }
    if (quote) this.fail('unterminated quote in a path');
    const path = this.src.slice(start, this.pos).trim();
    if (path === '$' || path === '$$' || /^\$\$?[.[]/.test(path)) return path;
    return this.fail(`'${path}' is not a path`);
  }
}
