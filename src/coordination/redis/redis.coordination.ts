import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Coordination, CoordinationStatus, Unsubscribe } from '../coordination';

/**
 * Redis pub/sub across replicas. Commands fail fast instead of queueing while Redis is
 * down (waiters fall back to polling), and the clients reconnect on their own.
 */
export class RedisCoordination extends Coordination {
  private readonly logger = new Logger('coordination');
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  constructor(url: string) {
    super();
    const options = {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    };
    this.publisher = new Redis(url, options);
    // The subscriber re-subscribes by itself after a reconnect, so it keeps its queue.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (err: Error) => this.logger.warn(`redis: ${err.message}`));
    }
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    try {
      await this.publisher.publish(channel, message);
    } catch (err) {
      this.logger.warn(`publish to ${channel} failed: ${(err as Error).message}`);
    }
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.withTimeout(this.subscriber.subscribe(channel), `subscribe ${channel}`);
    }
    set.add(handler);
    return async () => {
      const current = this.handlers.get(channel);
      if (!current) return;
      current.delete(handler);
      if (current.size === 0) {
        this.handlers.delete(channel);
        await this.withTimeout(this.subscriber.unsubscribe(channel), `unsubscribe ${channel}`);
      }
    };
  }

  status(): CoordinationStatus {
    return this.publisher.status === 'ready' ? 'up' : 'down';
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.publisher.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  /** Redis being slow or down must not hold a lease request up. */
  private async withTimeout(op: Promise<unknown>, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        op,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), 1000);
        }),
      ]);
    } catch (err) {
      this.logger.warn(`${what} failed (polling covers it): ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
