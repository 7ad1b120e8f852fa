import type { FactoryEvents } from './event-types.js';

type Listener<E extends keyof FactoryEvents> = (payload: FactoryEvents[E]) => void;

/**
 * The factory's typed event emitter. A throwing listener never breaks the operation that
 * emitted: its error is re-emitted as an `error` event (and dropped if that listener throws too).
 */
export class EventHub {
  readonly #listeners: { [E in keyof FactoryEvents]?: Listener<E>[] } = {};
  /** Listeners of every event together: with none (the common case) `has` answers without a lookup. */
  #total = 0;

  on<E extends keyof FactoryEvents>(event: E, listener: Listener<E>): () => void {
    const list = (this.#listeners[event] ??= []) as Listener<E>[];
    list.push(listener);
    this.#total += 1;
    return () => this.off(event, listener);
  }

  off<E extends keyof FactoryEvents>(event: E, listener: Listener<E>): void {
    const list = this.#listeners[event] as Listener<E>[] | undefined;
    const index = list?.indexOf(listener) ?? -1;
    if (list && index >= 0) {
      list.splice(index, 1);
      this.#total -= 1;
    }
  }

  /** Whether anyone listens (lets hot paths skip building payloads). */
  has(event: keyof FactoryEvents): boolean {
    return this.#total > 0 && (this.#listeners[event]?.length ?? 0) > 0;
  }

  emit<E extends keyof FactoryEvents>(event: E, payload: FactoryEvents[E]): void {
    const list = this.#listeners[event] as Listener<E>[] | undefined;
    if (!list) return;
    for (const listener of [...list]) {
      try {
        listener(payload);
      } catch (error) {
        if (event !== 'error') this.emit('error', { phase: 'listener', error });
      }
    }
  }
}
