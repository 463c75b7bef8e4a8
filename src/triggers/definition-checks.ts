import { StepwiseError } from '../core/errors.js';
import { isValidName } from '../core/ids.js';
import { executionIdRuleProblem } from './message.js';

/**
 * Checks shared by the trigger and webhook builders. A definition is checked when it is built, and
 * a problem throws INVALID_DEFINITION with a message that names the trigger and the field, so a
 * mistake shows when the module loads rather than when the first message arrives.
 */
export class DefinitionChecks {
  private readonly problems: string[] = [];

  constructor(
    private readonly what: string,
    private readonly options: Record<string, unknown>,
  ) {
    if (options === null || typeof options !== 'object') throw new StepwiseError('INVALID_DEFINITION', `${what}: options must be an object`);
  }

  get name(): string {
    return typeof this.options.name === 'string' ? this.options.name : '?';
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  /** A name: a letter, then letters, digits, `_` or `-`, at most 64 (it becomes part of ids). */
  identifier(field: string): void {
    const value = this.options[field];
    if (typeof value !== 'string' || !isValidName(value)) {
      this.problems.push(`${field} must be a letter followed by up to 63 letters, digits, '_' or '-'`);
    }
  }

  text(field: string, optional = false): void {
    const value = this.options[field];
    if (value === undefined && optional) return;
    if (typeof value !== 'string' || value.trim().length === 0 || /[\s\u0000-\u001f]/.test(value) || value.length > 255) {
      this.problems.push(`${field} must be a non-empty string without spaces or control characters (at most 255)`);
    }
  }

  positiveInt(field: string, max: number): void {
    const value = this.options[field];
    if (value === undefined) return;
    if (!(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max)) this.problems.push(`${field} must be an integer from 1 to ${max}`);
  }

  fn(field: string): void {
    const value = this.options[field];
    if (value !== undefined && typeof value !== 'function') this.problems.push(`${field} must be a function`);
  }

  executionIdRule(): void {
    const problem = executionIdRuleProblem(this.options.executionId);
    if (problem) this.problems.push(problem);
  }

  onlyKnown(known: readonly string[]): void {
    for (const key of Object.keys(this.options)) {
      if (!known.includes(key)) this.problems.push(`unknown option '${key}'`);
    }
  }

  /** Throws INVALID_DEFINITION listing every problem found. */
  done(): void {
    if (this.problems.length > 0) {
      throw new StepwiseError('INVALID_DEFINITION', `${this.what} '${this.name}': ${this.problems.join('; ')}`, { trigger: this.name });
    }
  }
}

/**
 * True when the NATS subject `subject` is matched by `filter` (`*` one token, `>` the rest).
 * Used to refuse a dead-letter subject the trigger itself would consume, which would loop.
 */
export function natsSubjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** A NATS subject: dot-separated non-empty tokens; wildcards only where `wildcards` is set. */
export function natsSubjectProblem(field: string, value: unknown, wildcards: boolean): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || /[\s\u0000-\u001f]/.test(value)) {
    return `${field} must be a NATS subject (dot-separated tokens, no spaces)`;
  }
  const tokens = value.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) return `${field} '${value}' has an empty token`;
    if ((t === '*' || t === '>') && !wildcards) return `${field} '${value}' must not hold wildcards (it is published to)`;
    if (t === '>' && i !== tokens.length - 1) return `${field} '${value}' may have '>' only as its last token`;
    if (t !== '*' && t !== '>' && /[*>]/.test(t)) return `${field} '${value}' mixes a wildcard into a token`;
  }
  return undefined;
}
