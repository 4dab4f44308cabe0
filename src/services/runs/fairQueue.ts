/**
 * The scheduler's queue: runs wait per session, first in first out, and sessions take turns.
 * A session with a turn in progress is skipped (one active turn per session: codex would silently
 * fold a second `turn/start` into the first). Among the others, the session served longest ago goes
 * first (ties: the one whose oldest run has waited longest), so a session with a hundred queued runs
 * cannot starve one with a single run. Pure, no IO.
 */
export class FairQueue<Session, Run> {
  private readonly queues = new Map<Session, Array<{ readonly run: Run; readonly seq: number }>>()
  private readonly busy = new Set<Session>()
  /** When each session was last served, in take order. */
  private readonly lastServed = new Map<Session, number>()
  private seq = 0
  private served = 0

  get size(): number {
    let n = 0
    for (const runs of this.queues.values()) n += runs.length
    return n
  }

  /** Last in its session's queue, or `first` (a run that came before the others, handed back). */
  enqueue(session: Session, run: Run, first = false): void {
    const runs = this.queues.get(session)
    const entry = { run, seq: first ? (runs?.[0]?.seq ?? this.seq++) - 1 : this.seq++ }
    if (runs === undefined) this.queues.set(session, [entry])
    else if (first) runs.unshift(entry)
    else runs.push(entry)
  }

  /** Take a queued run out (interrupted before it started). */
  remove(run: Run): boolean {
    for (const [session, runs] of this.queues) {
      const index = runs.findIndex((entry) => entry.run === run)
      if (index === -1) continue
      runs.splice(index, 1)
      if (runs.length === 0) this.queues.delete(session)
      return true
    }
    return false
  }

  /**
   * The runs to start now, at most one per idle session, until `limit` sessions are active. Each
   * returned run's session counts as active until `release`.
   */
  take(limit: number): Array<{ readonly session: Session; readonly run: Run }> {
    const candidates = [...this.queues]
      .filter(([session]) => !this.busy.has(session))
      .sort(
        ([a, runsA], [b, runsB]) =>
          (this.lastServed.get(a) ?? -1) - (this.lastServed.get(b) ?? -1) ||
          (runsA[0]?.seq ?? 0) - (runsB[0]?.seq ?? 0),
      )
    const started: Array<{ readonly session: Session; readonly run: Run }> = []
    for (const [session, runs] of candidates) {
      if (this.busy.size >= limit) break
      const entry = runs.shift() as { readonly run: Run }
      if (runs.length === 0) this.queues.delete(session)
      this.busy.add(session)
      this.lastServed.set(session, this.served++)
      started.push({ session, run: entry.run })
    }
    return started
  }

  /** The session's turn ended; it may be served again. */
  release(session: Session): void {
    this.busy.delete(session)
  }
}
