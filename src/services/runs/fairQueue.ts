/**
 * The scheduler's queue: runs wait per session, first in first out, and sessions take turns.
 * A session with a turn in progress is skipped (one active turn per session: codex would silently
 * fold a second `turn/start` into the first); a session that was just served goes to the back, so a
 * session with a hundred queued runs cannot starve one with a single run. Pure, no IO.
 */
export class FairQueue<Session, Run> {
  /** Sessions with queued runs, in the order they will be served. */
  private readonly queues = new Map<Session, Array<Run>>()
  private readonly busy = new Set<Session>()

  get size(): number {
    let n = 0
    for (const runs of this.queues.values()) n += runs.length
    return n
  }

  get activeCount(): number {
    return this.busy.size
  }

  enqueue(session: Session, run: Run): void {
    const runs = this.queues.get(session)
    if (runs === undefined) this.queues.set(session, [run])
    else runs.push(run)
  }

  /** Take a queued run out (interrupted before it started). */
  remove(run: Run): boolean {
    for (const [session, runs] of this.queues) {
      const index = runs.indexOf(run)
      if (index === -1) continue
      runs.splice(index, 1)
      if (runs.length === 0) this.queues.delete(session)
      return true
    }
    return false
  }

  /**
   * The runs to start now, at most one per idle session, until `limit` turns are active. Each returned
   * run's session counts as active until `release`.
   */
  take(limit: number): Array<{ readonly session: Session; readonly run: Run }> {
    const started: Array<{ readonly session: Session; readonly run: Run }> = []
    for (const [session, runs] of [...this.queues]) {
      if (this.busy.size >= limit) break
      if (this.busy.has(session)) continue
      const run = runs.shift() as Run
      this.queues.delete(session)
      // Served: back of the line, if it still has work.
      if (runs.length > 0) this.queues.set(session, runs)
      this.busy.add(session)
      started.push({ session, run })
    }
    return started
  }

  /** The session's turn ended; it may be served again. */
  release(session: Session): void {
    this.busy.delete(session)
  }
}
