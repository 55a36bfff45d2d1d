/**
 * TypedEventTarget<EventMap>: an `EventTarget` whose `addEventListener` and `removeEventListener` know the
 * class's events, and one `emit` that builds the `CustomEvent`. The one copy of the typed listener overloads
 * (the transfer and the queue both extend it), so that a listener's `event.detail` is typed by event name.
 */

/** A listener for event `K` of `EventMap`, called with the target as `this`. */
export type TypedListener<This, EventMap, K extends keyof EventMap> = (
  this: This,
  event: EventMap[K],
) => unknown;

/** The `detail` type of a `CustomEvent` in an event map. */
export type DetailOf<E> = E extends CustomEvent<infer D> ? D : never;

/** An EventTarget typed by an event map of `CustomEvent`s; unknown event names still type-check as strings. */
export class TypedEventTarget<EventMap extends { [K in keyof EventMap]: Event }> extends EventTarget {
  /**
   * Adds a listener; typed for this class's events.
   *
   * @param type - the event name
   * @param listener - called with the event
   * @param options - as for `EventTarget.addEventListener`
   */
  override addEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: TypedListener<this, EventMap, K>,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | TypedListener<this, EventMap, never> | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Removes a listener added with `addEventListener`.
   *
   * @param type - the event name
   * @param listener - the listener to remove
   * @param options - as for `EventTarget.removeEventListener`
   */
  override removeEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: TypedListener<this, EventMap, K>,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | TypedListener<this, EventMap, never> | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Dispatches a `CustomEvent` of this class's map with the given detail.
   *
   * @param type - the event name
   * @param detail - the event's detail
   * @returns what `dispatchEvent` returns
   */
  protected emit<K extends keyof EventMap & string>(type: K, detail: DetailOf<EventMap[K]>): boolean {
    return this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
