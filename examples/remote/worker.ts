import { Worker } from '../../src/index.js';
import { config } from './config.js';
import { shipParcel } from './shipping.js';

/**
 * A polling worker for the 'shipping' queue, as you would run it on the machines next to the
 * packing line: it asks the Stepwise server for work, so it needs no open port of its own.
 * Ctrl-C stops it gracefully: running tasks get ten seconds to finish, then are handed back.
 */
const worker = new Worker({
  url: config.stepwiseUrl,
  token: config.stepwiseToken,
  queue: 'shipping',
  concurrency: 4,
  handler: shipParcel,
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: stopping worker ${worker.workerId}`);
    void worker.stop();
  });
}

console.log(`worker ${worker.workerId} polling ${config.stepwiseUrl} queue 'shipping'`);
await worker.run();
console.log('worker stopped');
