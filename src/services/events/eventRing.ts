/** A fixed-capacity ring of the most recent events: O(1) append, oldest evicted first. */
import type { RecentEvent } from "../../domain/event.ts"

export class EventRing {
  private readonly slots: Array<RecentEvent | undefined>
  private start = 0
  private count = 0
  readonly capacity: number

  constructor(capacity: number, initial: ReadonlyArray<RecentEvent> = []) {
    this.capacity = capacity
    this.slots = new Array(capacity)
    for (const event of initial.slice(-capacity)) this.push(event)
  }

  push(event: RecentEvent): void {
    const end = (this.start + this.count) % this.capacity
    this.slots[end] = event
    if (this.count < this.capacity) this.count += 1
    else this.start = (this.start + 1) % this.capacity
  }

  get oldest(): RecentEvent | undefined {
    return this.count === 0 ? undefined : this.slots[this.start]
  }

  /** Events in seq order, optionally only those after `afterSeq`. */
  toArray(afterSeq = 0): Array<RecentEvent> {
    const out: Array<RecentEvent> = []
    for (let i = 0; i < this.count; i++) {
      const event = this.slots[(this.start + i) % this.capacity]
      if (event !== undefined && event.seq > afterSeq) out.push(event)
    }
    return out
  }
}
