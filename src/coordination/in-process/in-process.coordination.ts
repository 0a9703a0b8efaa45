import { EventEmitter } from 'node:events';
import { Coordination, CoordinationStatus, Unsubscribe } from '../coordination';

/** Single replica: signals stay inside this process. */
export class InProcessCoordination extends Coordination {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, message: string): Promise<void> {
    // Deliver asynchronously, like a broker would: a publisher never runs subscribers inline.
    setImmediate(() => this.emitter.emit(channel, message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    this.emitter.on(channel, handler);
    return async () => {
      this.emitter.off(channel, handler);
    };
  }

  status(): CoordinationStatus {
    return 'disabled';
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
