import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { channels, Coordination } from './coordination';

/**
 * "Something changed, reconcile soon": after a lease, a release, a config change.
 * Kicks reach the local reconciler at once and the leader on another replica via pub/sub.
 */
@Injectable()
export class ReconcileKicker {
  private readonly local = new EventEmitter();

  constructor(private readonly coordination: Coordination) {}

  kick(): void {
    this.local.emit('kick');
    void this.coordination.publish(channels.reconcileKick, '1');
  }

  onKick(handler: () => void): () => void {
    this.local.on('kick', handler);
    return () => this.local.off('kick', handler);
  }
}
