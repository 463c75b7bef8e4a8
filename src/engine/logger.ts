/** Where the engine reports what it cannot say through a return value or an error. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * The default logger: drops info, prints warnings and errors to the console (stderr). A failure
 * the engine recovers from (a store outage, a poisoned execution) is still worth seeing.
 */
export const warningsToConsole: Logger = {
  info() {},
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};
