/** A small client for the Stepwise HTTP API, on global fetch. Errors carry the exit code to use. */

export const ExitCode = {
  OK: 0,
  /** The server answered with an error, or could not be reached. */
  ERROR: 1,
  /** The command line is wrong (unknown command or option, bad --input). */
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  /** `start --wait`: the execution ended FAILED. */
  FAILED: 5,
  /** `start --wait`: the execution ended CANCELLED. */
  CANCELLED: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one line, `stepwise: <code>: <message>`, and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError('USAGE', message, ExitCode.USAGE);
}

function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return ExitCode.NOT_FOUND;
  if (status === 409) return ExitCode.CONFLICT;
  return ExitCode.ERROR;
}

export interface ClientOptions {
  baseUrl: string;
  token?: string;
  /** Per-request timeout in ms. @default 30000 */
  timeoutMs?: number;
}

export class ApiClient {
  private readonly base: URL;

  constructor(private readonly opts: ClientOptions) {
    try {
      this.base = new URL(opts.baseUrl);
    } catch {
      throw usageError(`--url is not a URL: ${opts.baseUrl}`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw usageError(`--url must be http:// or https://, not ${this.base.protocol}`);
    }
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const url = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError('UNREACHABLE', `cannot reach ${this.base.origin}: ${why}`, ExitCode.ERROR);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`;
      const message = typeof error?.message === 'string' ? error.message : response.statusText || 'request failed';
      throw new CliError(code, message, exitCodeForStatus(response.status));
    }
    if (parsed === undefined && response.status !== 204) {
      throw new CliError('BAD_RESPONSE', `the server at ${this.base.origin} did not answer with JSON`, ExitCode.ERROR);
    }
    return { status: response.status, body: parsed as T };
  }
}
