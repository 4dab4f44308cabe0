/** The scheduler's queue on its own: FIFO per session, one turn per session, a limit, turns across sessions. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FairQueue } from "../src/services/runs/fairQueue.ts"

describe("FairQueue", () => {
  it("serves the session served longest ago first, one run per session, within the limit", () => {
    const q = new FairQueue<string, string>()
    q.enqueue("a", "a1")
    expect(q.take(1)).toEqual([{ session: "a", run: "a1" }])
    q.enqueue("a", "a2")
    q.enqueue("a", "a3")
    q.enqueue("b", "b1")
    expect(q.take(1)).toEqual([])
    q.release("a")
    expect(q.take(1)).toEqual([{ session: "b", run: "b1" }])
    q.release("b")
    expect(q.take(2)).toEqual([{ session: "a", run: "a2" }])
    expect(q.take(2)).toEqual([])
    expect(q.remove("a3")).toBe(true)
    expect(q.size).toBe(0)
  })

  it("puts a run handed back first in its session", () => {
    const q = new FairQueue<string, string>()
    q.enqueue("a", "a2")
    q.enqueue("a", "a3")
    q.enqueue("a", "a1", true)
    const order: Array<string> = []
    for (let i = 0; i < 3; i++) {
      order.push(...q.take(1).map((t) => t.run))
      q.release("a")
    }
    expect(order).toEqual(["a1", "a2", "a3"])
  })

  it("for any arrivals: FIFO within a session, never two of a session at once, never over the limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "c", "d"), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        (arrivals, limit) => {
          const q = new FairQueue<string, string>()
          for (const [i, session] of arrivals.entries()) q.enqueue(session, `${session}${i}`)
          const order: Array<string> = []
          let active: Array<string> = []
          while (q.size > 0 || active.length > 0) {
            const taken = q.take(limit)
            for (const { session, run } of taken) {
              expect(active).not.toContain(session)
              active.push(session)
              order.push(run)
            }
            expect(active.length).toBeLessThanOrEqual(limit)
            const done = active.shift() as string
            q.release(done)
            active = active.filter((s) => s !== done)
          }
          for (const session of new Set(arrivals)) {
            const mine = order.filter((r) => r.startsWith(session))
            const expected = arrivals.flatMap((s, i) => (s === session ? [`${s}${i}`] : []))
            expect(mine).toEqual(expected)
          }
          expect(order.length).toBe(arrivals.length)
        },
      ),
    )
  })

  it("does not let a session with many runs starve one with a single run", () => {
    const q = new FairQueue<string, string>()
    for (let i = 0; i < 100; i++) q.enqueue("busy", `busy${i}`)
    expect(q.take(1)[0]?.run).toBe("busy0")
    q.enqueue("late", "late0")
    q.release("busy")
    expect(q.take(1)[0]?.run).toBe("late0")
  })
})
