/**
 * LISTEN/NOTIFY for PostgresStore.onWorkAvailable: one dedicated connection per store, opened when
 * the first listener subscribes, re-opened with backoff when it drops.
 */
import type * as Pg from 'pg';
import type { PgModule } from './driver.js';

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;

export class WorkListener {
  private readonly listeners = new Set<() => void>();
  private client: Pg.Client | undefined;
  private starting = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs = FIRST_BACKOFF_MS;
  private closed = false;

  constructor(
    private readonly pg: PgModule,
    private readonly url: string,
    /** The channel commits NOTIFY (already a valid identifier). */
    private readonly channel: string,
  ) {}

  /**
   * Calls `listener` on every notification on the channel, and after the connection is
   * re-established (notifications may have been missed meanwhile). Returns the unsubscribe function.
   */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.client && !this.starting && !this.closed) void this.start();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves once the LISTEN connection is up (tests use it to avoid racing the first NOTIFY). */
  async ready(): Promise<void> {
    for (let i = 0; i < 500 && !this.closed; i++) {
      if (this.client) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async start(): Promise<void> {
    this.starting = true;
    const client = new this.pg.Client({ connectionString: this.url, application_name: 'stepwise-listen' });
    let reconnecting = false;
    const reconnect = () => {
      if (reconnecting) return;
      reconnecting = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed || this.listeners.size === 0) return;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.closed && !this.client && !this.starting) void this.start();
      }, delay);
      this.retryTimer.unref?.();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.notify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch {
      this.starting = false;
      reconnect();
      return;
    }
    this.starting = false;
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const wasReconnect = this.backoffMs > FIRST_BACKOFF_MS;
    this.backoffMs = FIRST_BACKOFF_MS;
    this.client = client;
    if (wasReconnect) this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // a listener's failure is its own business
      }
    }
  }
}
