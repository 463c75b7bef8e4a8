/**
 * How many WAL pages one step commit writes: a 10-step no-op workflow run one execution at a time
 * with checkpoints held off, WAL frames counted from the file's growth. Fewer pages per commit is
 * what makes a step cheaper at synchronous=FULL. Run: `node dist/bench/wal-pages.js [executions]`.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, SqliteStore, workflow } from '../src/index.js';
import { benchDir, removeDir } from './util.js';

const PAGE = 4096;
const FRAME_HEADER = 24;

async function main(): Promise<void> {
  const executions = Number(process.argv[2] ?? 300);
  const dir = benchDir('wal-pages');
  let wf = workflow<{ i: number }>('ten');
  for (let i = 0; i < 10; i++) wf = wf.task(`s${i}`, async (x) => x);
  const ten = wf.build();
  const store = await SqliteStore.open(join(dir, 'e.db'), { checkpointIntervalMs: 3_600_000 });
  const engine = new Engine({ store }).register(ten);
  await engine.start();
  const runOne = async (i: number) => engine.waitForEnd((await engine.startExecution('ten', { i })).execution.id);
  for (let i = 0; i < 20; i++) await runOne(i); // warm up, then start from an empty WAL
  store.connection.pragma('wal_checkpoint(TRUNCATE)');
  const before = statSync(join(dir, 'e.db-wal')).size;
  for (let i = 0; i < executions; i++) await runOne(i);
  const frames = (statSync(join(dir, 'e.db-wal')).size - before) / (PAGE + FRAME_HEADER);
  const commits = executions * 11; // the start, then one commit per step
  console.log(JSON.stringify({ executions, commits, walFrames: Math.round(frames), pagesPerCommit: Number((frames / commits).toFixed(2)) }));
  await engine.stop();
  await store.close();
  removeDir(dir);
}

void main();
