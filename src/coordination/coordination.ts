import { OnApplicationShutdown } from '@nestjs/common';

export type Unsubscribe = () => Promise<void>;
export type CoordinationStatus = 'up' | 'down' | 'disabled';

/**
 * Cross-replica signals: wake-ups for waiting lease requests and reconcile kicks.
 * Best effort by design: PostgreSQL is the source of truth and every waiter also polls,
 * so a lost message only costs latency, never a lease.
 */
export abstract class Coordination implements OnApplicationShutdown {
  abstract publish(channel: string, message: string): Promise<void>;
  abstract subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;
  /** 'disabled' when running single-replica without Redis. */
  abstract status(): CoordinationStatus;
  abstract close(): Promise<void>;

  /** Without this, app.close() would leave Redis clients connected and the process alive. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

export const channels = {
  leaseRequest: (id: string): string => `warmpool:lease-request:${id}`,
  reconcileKick: 'warmpool:reconcile-kick',
};
