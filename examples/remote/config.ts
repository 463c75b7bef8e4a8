/**
 * Settings the example's three processes share, from the environment. The defaults suit one
 * machine; FUNCTION_SECRET must be set to a random value anywhere else (`openssl rand -hex 32`).
 */
export const config = {
  /** The Stepwise server the worker polls. */
  stepwiseUrl: process.env.STEPWISE_URL ?? 'http://127.0.0.1:3000',
  stepwiseToken: process.env.STEPWISE_TOKEN || undefined,
  /** Where the function server listens, and where the workflow calls it. */
  functionPort: Number(process.env.FUNCTION_PORT ?? 4100),
  functionUrl: process.env.FUNCTION_URL ?? `http://127.0.0.1:${process.env.FUNCTION_PORT ?? 4100}`,
  /** Shared by the workflow (which signs) and the function server (which verifies). */
  functionSecret: process.env.FUNCTION_SECRET ?? 'local-demo-secret-not-for-production',
};
