import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError, http, SIGNATURE_HEADER, StepErrorCodes, TerminalError, verifySignature, type StepContext } from '../../src/index.js';
import { handlerLocation } from '../../src/handlers/location.js';
import { functionServer, json, latch, type Respond } from '../helpers/function-server.js';

const SECRET = 'whsec-test-0123456789abcdef';

type Server = Awaited<ReturnType<typeof functionServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(respond: Respond): Promise<Server> {
  server = await functionServer(respond);
  return server;
}

function context(extra: Record<string, unknown> = {}): { ctx: StepContext; abort: AbortController } {
  const abort = new AbortController();
  const ctx = { workflow: 'shop', executionId: 'e-1', step: 'charge', attempt: 2, idempotencyKey: 'e-1:charge', signal: abort.signal, ...extra };
  return { ctx, abort };
}

/** What a failed call threw, in the terms retry and catch rules see. */
async function failureOf(call: Promise<unknown>) {
  const error = await call.then(
    () => expect.unreachable('the call succeeded'),
    (e: unknown) => e as Error & { code?: string; retryAfterMs?: number },
  );
  return { code: error.code, message: error.message, terminal: error instanceof TerminalError, retryAfterMs: error.retryAfterMs };
}

describe('http(): the request', () => {
  it('POSTs { input, context } as signed JSON and returns the JSON answer', async () => {
    const s = await serve((call, res) => {
      if (!verifySignature(call.rawBody, call.headers[SIGNATURE_HEADER], SECRET)) return json(res, 401, { error: { name: 'BadSignature' } });
      json(res, 200, { charged: call.body.input.amount });
    });
    const charge = http<{ amount: number }, { charged: number }>(`${s.url}/charge`, { secret: SECRET });
    const { ctx } = context({ deadline: Date.UTC(2030, 0, 1) });
    await expect(charge({ amount: 42 }, ctx)).resolves.toEqual({ charged: 42 });
    const [call] = s.calls;
    expect(call.path).toBe('/charge');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.body).toEqual({
      input: { amount: 42 },
      context: { executionId: 'e-1', workflow: 'shop', step: 'charge', attempt: 2, idempotencyKey: 'e-1:charge', deadline: '2030-01-01T00:00:00.000Z' },
    });
    expect(call.headers[SIGNATURE_HEADER]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('is refused by a function that holds another secret', async () => {
    const s = await serve((call, res) => {
      if (!verifySignature(call.rawBody, call.headers[SIGNATURE_HEADER], 'another-secret-entirely')) return json(res, 401, { error: { name: 'BadSignature', message: 'signature does not match' } });
      json(res, 200, 'should not get here');
    });
    const failure = await failureOf(http(s.url, { secret: SECRET })({}, context().ctx));
    expect(failure).toMatchObject({ code: 'BadSignature', terminal: true, message: 'signature does not match' });
  });

  it('passes the traceparent on when the context has one, and only a well-formed one', async () => {
    const s = await serve((_call, res) => json(res, 200, null));
    const fn = http(s.url, { secret: SECRET });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await fn({}, context({ traceparent }).ctx);
    await fn({}, context().ctx);
    await fn({}, context({ traceparent: 'x\r\nevil: 1' }).ctx);
    expect(s.calls.map((c) => c.headers.traceparent)).toEqual([traceparent, undefined, undefined]);
  });

  it('sends null as the deadline when the engine gives none, and adds extra headers', async () => {
    const s = await serve((_call, res) => json(res, 200, 1));
    await http(s.url, { secret: SECRET, headers: { 'x-api-key': 'k1' } })(undefined, context().ctx);
    expect(s.calls[0].body).toMatchObject({ input: null, context: { deadline: null } });
    expect(s.calls[0].headers['x-api-key']).toBe('k1');
  });

  it('names the function by its origin, for history', async () => {
    const fn = http('https://fn.example.com:8443/charge?region=eu', { secret: SECRET });
    expect(fn.where).toBe('https://fn.example.com:8443');
    expect(handlerLocation(fn)).toBe('https://fn.example.com:8443');
    expect(handlerLocation(async () => 1)).toBeUndefined();
  });

  it('refuses a bad definition when it is built', () => {
    expect(() => http('https://fn.example.com', { secret: 'short' })).toThrow(DefinitionError);
    expect(() => http('https://fn.example.com', {} as never)).toThrow(/secret/);
    expect(() => http('ftp://fn.example.com', { secret: SECRET })).toThrow(/http: or https:/);
    expect(() => http('/relative', { secret: SECRET })).toThrow(/absolute URL/);
    expect(() => http('https://user:pw@fn.example.com', { secret: SECRET })).toThrow(/credentials/);
    expect(() => http('https://fn.example.com', { secret: SECRET, headers: { 'Stepwise-Signature': 'forged' } })).toThrow(/set by Stepwise/);
    expect(() => http('https://fn.example.com', { secret: SECRET, maxResponseBytes: 0 })).toThrow(/maxResponseBytes/);
  });
});

describe('http(): the answer', () => {
  it('treats an empty 2xx as a null output', async () => {
    const s = await serve((_call, res) => res.writeHead(204).end());
    await expect(http(s.url, { secret: SECRET })({}, context().ctx)).resolves.toBeNull();
  });

  it('turns a documented 5xx error body into a retryable failure named by the function', async () => {
    const s = await serve((_call, res) => json(res, 503, { error: { name: 'GatewayBusy', message: 'try again soon' } }));
    expect(await failureOf(http(s.url, { secret: SECRET })({}, context().ctx))).toEqual({
      code: 'GatewayBusy', message: 'try again soon', terminal: false, retryAfterMs: undefined,
    });
  });

  it('turns a documented 4xx error body into a terminal failure named by the function', async () => {
    const s = await serve((_call, res) => json(res, 422, { error: { name: 'PaymentDeclined', message: 'card declined' } }));
    expect(await failureOf(http(s.url, { secret: SECRET })({}, context().ctx))).toMatchObject({ code: 'PaymentDeclined', message: 'card declined', terminal: true });
  });

  it('makes a bare 5xx retryable and a bare 400 terminal', async () => {
    let status = 500;
    const s = await serve((_call, res) => res.writeHead(status, { 'content-type': 'text/plain' }).end('oops'));
    const fn = http(s.url, { secret: SECRET });
    expect(await failureOf(fn({}, context().ctx))).toMatchObject({ code: StepErrorCodes.HttpServerError, terminal: false });
    status = 400;
    expect(await failureOf(fn({}, context().ctx))).toMatchObject({ code: StepErrorCodes.HttpClientError, terminal: true, message: expect.stringContaining('400') });
  });

  it('carries a 429 Retry-After, in seconds or as a date, capped by maxRetryAfterMs', async () => {
    let retryAfter = '7';
    const s = await serve((_call, res) => res.writeHead(429, { 'retry-after': retryAfter }).end());
    const fn = http(s.url, { secret: SECRET, maxRetryAfterMs: 60_000 });
    expect(await failureOf(fn({}, context().ctx))).toMatchObject({ code: StepErrorCodes.HttpRateLimited, terminal: false, retryAfterMs: 7000 });
    retryAfter = new Date(Date.now() + 30_000).toUTCString();
    const dated = (await failureOf(fn({}, context().ctx))).retryAfterMs!;
    expect(dated).toBeGreaterThan(25_000);
    expect(dated).toBeLessThanOrEqual(30_000);
    retryAfter = '86400';
    expect((await failureOf(fn({}, context().ctx))).retryAfterMs).toBe(60_000);
  });

  it('fails an HTML answer with Stepwise.HttpBadResponse, quoting the start of it', async () => {
    const s = await serve((_call, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><h1>Bad Gateway</h1>'));
    const failure = await failureOf(http(s.url, { secret: SECRET })({}, context().ctx));
    expect(failure).toMatchObject({ code: StepErrorCodes.HttpBadResponse, terminal: false });
    expect(failure.message).toContain('text/html');
    expect(failure.message).toContain('<!doctype html>');
  });

  it('does not follow a redirect', async () => {
    const s = await serve((call, res) => (call.path === '/moved' ? res.writeHead(307, { location: '/elsewhere' }).end() : json(res, 200, 'followed')));
    expect(await failureOf(http(`${s.url}/moved`, { secret: SECRET })({}, context().ctx))).toMatchObject({ code: StepErrorCodes.HttpBadResponse });
    expect(s.calls.map((c) => c.path)).toEqual(['/moved']);
  });

  it('refuses a declared 10 MB answer without reading it', async () => {
    const tenMegabytes = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const s = await serve((_call, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': tenMegabytes.length }).end(tenMegabytes));
    const failure = await failureOf(http(s.url, { secret: SECRET })({}, context().ctx));
    expect(failure).toMatchObject({ code: StepErrorCodes.OutputTooLarge, terminal: false });
    expect(failure.message).toContain('262144');
  });

  it('stops reading a streamed answer at the limit: an endless body fails instead of hanging', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const closed = latch();
    const s = await serve((_call, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      res.on('close', () => closed.open());
      pump();
    });
    const failure = await failureOf(http(s.url, { secret: SECRET, maxResponseBytes: 1024 * 1024 })({}, context().ctx));
    expect(failure).toMatchObject({ code: StepErrorCodes.OutputTooLarge });
    await closed.opened; // the client dropped the connection: the server stops writing
  });

  it('fails a reset connection and a refused one with Stepwise.HttpConnectionFailed', async () => {
    const s = await serve((_call, _res, req) => req.socket.destroy());
    expect(await failureOf(http(s.url, { secret: SECRET })({}, context().ctx))).toMatchObject({ code: StepErrorCodes.HttpConnectionFailed, terminal: false });
    const url = s.url;
    await s.close();
    server = undefined;
    const refused = await failureOf(http(url, { secret: SECRET })({}, context().ctx));
    expect(refused).toMatchObject({ code: StepErrorCodes.HttpConnectionFailed });
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it('aborts the request when the step is aborted (timeout or cancel)', async () => {
    const arrived = latch();
    const gone = latch();
    const s = await serve((_call, res) => {
      res.on('close', () => gone.open());
      arrived.open();
    });
    const { ctx, abort } = context();
    const call = http(s.url, { secret: SECRET })({}, ctx);
    await arrived.opened;
    abort.abort(new Error('timed out'));
    await expect(call).rejects.toThrow('timed out');
    await gone.opened; // the function sees the caller hang up
  });
});
