/**
 * Timers for XState actors on Effect's Clock, with one fiber for all of them. A machine re-arms a
 * timer on every event it counts as activity (the run's silence watchdog, per delta), so a timer must
 * cost a map entry, not a fiber: the timer fiber sleeps until the earliest deadline and fires what is
 * due; a later deadline needs no wake-up (the fiber finds it when it wakes), an earlier one wakes it.
 * Deadlines are fixed when a timer is set, so time that passes before the fiber runs (a TestClock's
 * `adjust` above all) still counts.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/** XState's clock interface (`createActor(machine, { clock })`). */
export interface ActorClock {
  readonly setTimeout: (fn: (...args: Array<unknown>) => void, timeout: number) => unknown
  readonly clearTimeout: (id: unknown) => void
}

interface Timer {
  readonly deadline: number
  readonly fn: () => void
}

/** An ActorClock whose timers are served by one fiber of the current scope. */
export const makeActorTimers = (): Effect.Effect<ActorClock, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const timers = new Map<number, Timer>()
    let nextId = 1
    /** The deadline the fiber sleeps until, or null while it waits for a timer to exist. */
    let sleepingUntil: number | null = null
    const wake = yield* Queue.sliding<void>(1)

    const fireDue = (now: number): void => {
      for (const [id, timer] of timers) {
        if (timer.deadline > now) continue
        timers.delete(id)
        try {
          timer.fn()
        } catch (error) {
          // A machine that throws in a delayed transition must not stop every other timer.
          void error
        }
      }
    }

    const earliest = (): number | null => {
      let min: number | null = null
      for (const timer of timers.values()) if (min === null || timer.deadline < min) min = timer.deadline
      return min
    }

    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          fireDue(yield* Clock.currentTimeMillis)
          const next = earliest()
          sleepingUntil = next
          if (next === null) {
            yield* Queue.take(wake)
            return
          }
          const now = yield* Clock.currentTimeMillis
          if (next <= now) return
          // Woken early by a nearer deadline, or at this one.
          yield* Effect.raceFirst(Effect.sleep(next - now), Queue.take(wake))
        }),
      ),
    )

    return {
      setTimeout: (fn, timeout) => {
        const id = nextId++
        const deadline = clock.currentTimeMillisUnsafe() + Math.max(0, timeout)
        timers.set(id, { deadline, fn: () => fn() })
        if (sleepingUntil === null || deadline < sleepingUntil) Queue.offerUnsafe(wake, undefined)
        return id
      },
      clearTimeout: (id) => {
        timers.delete(id as number)
      },
    }
  })
