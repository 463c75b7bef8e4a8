/**
 * Lone timer firings at synchronous=FULL (the default): timers due one at a time, a few ms apart,
 * each followed by a no-op step, while the event loop's delay is sampled. What this shows is the
 * loop's share of the firing path: a write made and synced on the event loop (an fsync inside
 * COMMIT) holds every request and handler result for the length of the fsync.
 *
 *   node dist/bench/lone-timers.js [timers=400] [gapMs=5]
 *
 * Prints CPU per firing, the loop delay's p99 and max while firing, and the firings' lateness.
 * To count the fsyncs made on the event loop itself (Linux), run it under
 * `strace -f -e trace=fsync,fdatasync -o trace.txt` and count the lines of the main thread (the
 * first line's thread id): the thread pool's fdatasyncs are the execution commits', off the loop.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openRig } from './harness.js';
import { benchDir, percentile, removeDir, round, sleep } from './util.js';
import { lateness, timerProbe } from './workflows.js';

async function main(): Promise<void> {
  const timers = Number(process.argv[2] ?? 400);
  const gapMs = Number(process.argv[3] ?? 5);
  const dir = benchDir('lone-timers');
  const rig = await openRig(dir, 'full', [timerProbe]);
  try {
    const firstDue = Date.now() + 1500;
    await Promise.all(Array.from({ length: timers }, (_, i) => rig.engine.startExecution('timerProbe', { dueAt: firstDue + i * gapMs })));
    while (Date.now() < firstDue - 50) await sleep(10);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const cpu0 = process.cpuUsage();
    while (lateness.length < timers) await sleep(20);
    delay.disable();
    const cpu = process.cpuUsage(cpu0);
    const late = [...lateness].sort((a, b) => a - b);
    console.log(JSON.stringify({
      timers, gapMs,
      cpuUsPerFiring: Math.round((cpu.user + cpu.system) / timers),
      loopDelayP99Ms: round(delay.percentile(99) / 1e6, 2),
      loopDelayMaxMs: round(delay.max / 1e6, 2),
      latenessP50Ms: percentile(late, 50),
      latenessP99Ms: percentile(late, 99),
    }));
  } finally {
    await rig.close();
    removeDir(dir);
  }
}

await main();
