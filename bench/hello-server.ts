/**
 * The cold-start baseline (bench/coldstart.ts): a bare fastify hello-world with the route the
 * measurement polls, GET /healthz, and nothing else (no logger, no plugins). Usage:
 *   node dist/bench/hello-server.js <port>
 */
import Fastify from 'fastify';

const app = Fastify();
app.get('/healthz', async () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
