/**
 * Holding the queue while the account's usage limit is reached. When a turn fails because codex hit
 * the usage limit (`codexErrorInfo: usageLimitExceeded`), starting the queued runs would only fail
 * them too: they are held instead, until the reset time codex gives (the latest `resetsAt` of a
 * rate-limit window at 100 %, as `account/rateLimits/updated` reported it into the daemon state),
 * then released by themselves. The hold is in the daemon state (`usageHold`), so `status` and the
 * API show it, and a restarted daemon keeps to it. Time is Effect's Clock.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberHandle from "effect/FiberHandle"
import * as Schedule from "effect/Schedule"
import type { RunRecord } from "../../domain/run.ts"
import type { EventLog } from "../events/EventLog.ts"
import type { Store } from "../store/Store.ts"

/** Held this long when codex gives no reset time. */
const DEFAULT_HOLD_MS = 60_000

/** A run that failed because the account's usage limit was reached. */
export const failedOnUsageLimit = (run: RunRecord): boolean =>
  run.status === "failed" && run.result?.codexErrorInfo === "usageLimitExceeded"

/** The latest reset (ms) of the windows used up, when one is still ahead; null when none is. */
export const exhaustedUntilMs = (
  rateLimits: Readonly<Record<string, unknown>> | null | undefined,
  nowMs: number,
): number | null => {
  let until: number | null = null
  for (const key of ["primary", "secondary"]) {
    const window = rateLimits?.[key] as { usedPercent?: unknown; resetsAt?: unknown } | null | undefined
    if (typeof window?.usedPercent !== "number" || typeof window.resetsAt !== "number") continue
    const resetMs = window.resetsAt * 1000
    if (window.usedPercent >= 100 && resetMs > nowMs) until = Math.max(until ?? 0, resetMs)
  }
  return until
}

export const makeUsageHold = (
  store: Store["Service"],
  events: EventLog["Service"],
  /** Runs when the hold ends: the queue is pumped. */
  released: Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    let untilMs: number | null = null
    const timer = yield* FiberHandle.make()
    // The supervisor writes the daemon state first; before it exists there is nothing to add to.
    const record = (hold: { until: string; runId: string; reason: string } | null) =>
      Effect.flatMap(store.daemonState, (known) =>
        known === null
          ? Effect.void
          : store
              .updateDaemonState((state) => ({ ...(state ?? known), usageHold: hold }))
              .pipe(Effect.ignore),
      )

    const release = Effect.gen(function* () {
      untilMs = null
      yield* record(null)
      yield* events.publish({
        type: "runs.hold.released",
        message: "the usage limit was reset: queued runs resume",
      })
      yield* released
    })

    const holdUntil = (until: number, runId: string, reason: string) =>
      Effect.gen(function* () {
        untilMs = until
        const at = new Date(until).toISOString()
        yield* record({ until: at, runId, reason })
        yield* FiberHandle.run(
          timer,
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(Math.max(0, until - now))).pipe(
            Effect.andThen(release),
          ),
        )
        yield* events.publish({
          level: "warn",
          type: "runs.held",
          message: `queued runs held until ${at}: ${reason}`,
          detail: { runId, until: at },
        })
      })

    /** codex's reset time: the rate-limit update may land a moment after the failed turn's end. */
    const resetOf = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const until = exhaustedUntilMs((yield* store.daemonState)?.rateLimits, now)
      return until === null ? yield* Effect.fail("no reset time yet" as const) : until
    }).pipe(
      Effect.retry({ schedule: Schedule.spaced(500), times: 6 }),
      Effect.catch(() => Effect.map(Clock.currentTimeMillis, (now) => now + DEFAULT_HOLD_MS)),
    )

    // A hold a previous daemon recorded still holds.
    const kept = (yield* store.daemonState)?.usageHold
    if (kept != null) {
      const until = Date.parse(kept.until)
      if (until > (yield* Clock.currentTimeMillis)) yield* holdUntil(until, kept.runId, kept.reason)
      else yield* record(null)
    }

    return {
      /** True while queued runs must wait. */
      held: Effect.map(Clock.currentTimeMillis, (now) => untilMs !== null && now < untilMs),
      /** Hold the queue for `run`, which failed on the usage limit: at once, then until codex's reset. */
      hold: (run: RunRecord) =>
        Effect.gen(function* () {
          const reason = `run ${run.runId} hit the account's usage limit`
          const now = yield* Clock.currentTimeMillis
          // Nothing starts while the reset time is being learned.
          untilMs = Math.max(untilMs ?? 0, now + DEFAULT_HOLD_MS)
          yield* holdUntil(yield* resetOf, run.runId, reason)
        }),
    }
  })
