/**
 * Why `serve()` (and so `stepwise serve`) could not start. The CLI prints
 * `stepwise: <code>: <message>` and exits with `exitCode`: 2 for what the user must change in the
 * command, the config or a module; 1 for what went wrong around them (store, port, engine).
 */
export const ServeErrorCodes = {
  /** A flag or environment variable has a bad value, or there is nothing to serve. */
  USAGE: 2,
  /** The config file cannot be loaded, or an option in it (or given to `serve()`) is wrong. */
  BAD_CONFIG: 2,
  /** A module does not exist, fails to load, or exports nothing to serve; an ASL file is invalid; a trigger, webhook or schedule starts a workflow nothing serves. */
  BAD_MODULE: 2,
  /** A host beyond loopback without a token (and without allowInsecure). */
  INSECURE: 1,
  /** The store (or the SQLite file's directory, or the state machine registry beside it) cannot be opened or created. */
  STORE_UNAVAILABLE: 1,
  /** The port is taken. */
  ADDRESS_IN_USE: 1,
  /** The engine or the listener failed to start. */
  STARTUP_FAILED: 1,
} as const;
export type ServeErrorCode = keyof typeof ServeErrorCodes;

export class ServeError extends Error {
  override readonly name = 'ServeError';
  readonly exitCode: number;
  constructor(
    readonly code: ServeErrorCode,
    message: string,
  ) {
    super(message);
    this.exitCode = ServeErrorCodes[code];
  }
}
