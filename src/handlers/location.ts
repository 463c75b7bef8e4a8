/**
 * Where a handler's work runs, for history: StepStarted's `data.worker` is the engine's id for an
 * in-process handler, and this for a remote one (an HTTP function's origin). A handler says so
 * with a non-empty string property `where`, which http() sets.
 */
export function handlerLocation(handler: unknown): string | undefined {
  if (typeof handler !== 'function') return undefined;
  const where = (handler as { where?: unknown }).where;
  return typeof where === 'string' && where.length > 0 ? where : undefined;
}
