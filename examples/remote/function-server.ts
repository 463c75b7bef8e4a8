import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { SIGNATURE_HEADER, verifySignature } from '../../src/index.js';
import { config } from './config.js';
import { QuoteError, quoteShipping } from './shipping.js';

/**
 * An HTTP function server, as you would run it anywhere (a container, a serverless platform):
 * `POST /quote` prices a parcel. It trusts a request only once its signature checks out, and
 * answers failures in the documented error body, with 5xx for "try again" and 4xx for "final"
 * (docs/handlers.md#http-functions).
 */

const MAX_BODY_BYTES = 1024 * 1024;

export function createFunctionServer(options: { secret: string }): Server {
  return createServer((req, res) => {
    void handle(req, res, options.secret).catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, { error: { name: 'QuoteFunctionBug', message: String((error as Error)?.message ?? error) } });
      else res.destroy();
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, secret: string): Promise<void> {
  if (req.method !== 'POST' || req.url !== '/quote') return answer(res, 404, { error: { name: 'NotFound', message: `no function at ${req.method} ${req.url}` } });
  if (!String(req.headers['content-type']).startsWith('application/json')) {
    return answer(res, 415, { error: { name: 'UnsupportedMediaType', message: 'send application/json' } });
  }
  const rawBody = await readBody(req);
  if (rawBody === undefined) return answer(res, 413, { error: { name: 'PayloadTooLarge', message: `the body is over ${MAX_BODY_BYTES} bytes` } });
  // Verify the raw bytes, before parsing: a parsed and re-serialised body would not match.
  if (!verifySignature(rawBody, req.headers[SIGNATURE_HEADER], secret)) {
    return answer(res, 401, { error: { name: 'BadSignature', message: 'the stepwise-signature header does not verify' } });
  }
  const { input, context } = JSON.parse(rawBody.toString('utf8'));
  try {
    answer(res, 200, quoteShipping(input, context));
  } catch (error) {
    if (!(error instanceof QuoteError)) throw error;
    // Retry-After tells Stepwise the earliest sensible retry; its backoff never goes sooner.
    answer(res, error.status, { error: { name: error.name, message: error.message } }, error.status === 503 ? { 'retry-after': '1' } : {});
  }
}

/** The body as bytes, or undefined past the limit (the rest is not read). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = createFunctionServer({ secret: config.functionSecret });
  server.listen(config.functionPort, '127.0.0.1', () => console.log(`quote function listening on http://127.0.0.1:${config.functionPort}/quote`));
  process.once('SIGINT', () => server.close());
  process.once('SIGTERM', () => server.close());
}
