/**
 * Applies the system-wide network settings (isolated nodes, message trace) to one host. Every
 * host (the main thread's and each worker's) holds one, so a setting reaches all of them the
 * same way, and a restarted worker gets the settings in force when it joins.
 */
import type { ActorHost } from './host.js';
import { MessageSampler, type TraceWindow } from './message-trace.js';
import type { NetworkSettings } from './worker-protocol.js';

export class HostNetwork {
  private sampler: MessageSampler | null = null;

  constructor(
    private readonly host: ActorHost,
    private readonly emit: (w: TraceWindow) => void,
  ) {}

  apply(settings: NetworkSettings): void {
    const host = this.host;
    host.isolated = settings.isolated.length > 0 ? new Set(settings.isolated) : null;
    // A fresh sampler each time: the old one hands over its open window first.
    this.sampler?.stop();
    this.sampler = null;
    host.tap = null;
    if (settings.trace !== null) {
      this.sampler = new MessageSampler(host.node, settings.trace, host.clock, this.emit);
      host.tap = this.sampler.tap;
    }
  }

  stop(): void {
    this.sampler?.stop();
    this.sampler = null;
    this.host.tap = null;
  }
}
