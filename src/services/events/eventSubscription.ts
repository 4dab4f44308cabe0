/**
 * One subscriber's view of the event stream: a bounded buffer the EventLog pushes into and the
 * subscriber pulls from. A subscriber that falls behind by more than its bound is not waited for:
 * it receives one final `Dropped` item and is closed, so the daemon and other subscribers never slow.
 */
import type { RecentEvent } from "../../domain/event.ts"

export type SubscriptionItem =
  | { readonly _tag: "Event"; readonly event: RecentEvent }
  /** The asked seq is older than the cache holds: events between were lost to this subscriber. */
  | { readonly _tag: "Reset"; readonly requestedSince: number; readonly oldestSeq: number }
  | { readonly _tag: "Dropped"; readonly reason: string }

export class EventSubscription implements AsyncIterable<SubscriptionItem> {
  private readonly buffer: Array<SubscriptionItem> = []
  private head = 0
  private waiter: ((item: SubscriptionItem | null) => void) | null = null
  private closed = false
  private ending = false
  private readonly bound: number
  private readonly accepts: (event: RecentEvent) => boolean
  private readonly onClose: (subscription: EventSubscription) => void

  constructor(options: {
    readonly bound: number
    readonly accepts: (event: RecentEvent) => boolean
    readonly onClose: (subscription: EventSubscription) => void
  }) {
    this.bound = options.bound
    this.accepts = options.accepts
    this.onClose = options.onClose
  }

  get isClosed(): boolean {
    return this.closed || this.ending
  }

  /** Items waiting to be pulled. */
  get backlog(): number {
    return this.buffer.length - this.head
  }

  /** Called by the EventLog for replayed items; replay is bounded by the cache, not by `bound`. */
  enqueueReplay(item: SubscriptionItem): void {
    if (item._tag === "Event" && !this.accepts(item.event)) return
    this.deliver(item)
  }

  /** Called by the EventLog for each live event; never blocks. */
  offer(event: RecentEvent): void {
    if (this.isClosed || !this.accepts(event)) return
    if (this.backlog >= this.bound) {
      this.deliver({ _tag: "Dropped", reason: `subscriber fell ${this.bound} events behind` })
      this.ending = true
      this.onClose(this)
      return
    }
    this.deliver({ _tag: "Event", event })
  }

  private deliver(item: SubscriptionItem): void {
    const waiter = this.waiter
    if (waiter !== null) {
      this.waiter = null
      waiter(item)
    } else {
      this.buffer.push(item)
    }
  }

  /** The next item, or null once the subscription is closed and drained. */
  next(): Promise<SubscriptionItem | null> {
    if (this.head < this.buffer.length) {
      const item = this.buffer[this.head] as SubscriptionItem
      this.head += 1
      // Compact now and then so a long-lived subscription does not keep every item it ever saw.
      if (this.head > 1024 && this.head * 2 > this.buffer.length) {
        this.buffer.splice(0, this.head)
        this.head = 0
      }
      return Promise.resolve(item)
    }
    if (this.closed || this.ending) return Promise.resolve(null)
    return new Promise((resolve) => {
      this.waiter = resolve
    })
  }

  /** Every item already waiting, without waiting for more (a writer batches them). */
  takeBuffered(): Array<SubscriptionItem> {
    const items = this.buffer.slice(this.head)
    this.buffer.length = 0
    this.head = 0
    return items
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.buffer.length = 0
    this.head = 0
    this.onClose(this)
    const waiter = this.waiter
    this.waiter = null
    waiter?.(null)
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionItem> {
    try {
      for (;;) {
        const item = await this.next()
        if (item === null) return
        yield item
      }
    } finally {
      this.close()
    }
  }
}
