/**
 * The daemon's services (Store, EventLog, Approvals, Supervisor, Sessions, Runs) composed by the real
 * composition root over the fake app-server in codex-like mode, with every event recorded.
 */
import { Effect } from "effect"
import type { SettingKey } from "../../src/config.ts"
import { daemonLayer } from "../../src/daemon.ts"
import type { RecentEvent } from "../../src/domain/event.ts"
import type { RunId } from "../../src/domain/ids.ts"
import type { RunRecord } from "../../src/domain/run.ts"
import { Approvals } from "../../src/services/approvals/Approvals.ts"
import { EventLog } from "../../src/services/events/EventLog.ts"
import { Runs, type RunsOptions } from "../../src/services/runs/Runs.ts"
import { Sessions } from "../../src/services/sessions/Sessions.ts"
import { Store } from "../../src/services/store/Store.ts"
import { Supervisor } from "../../src/services/supervisor/Supervisor.ts"
import { fakeAppServerPath } from "./fakePeer.ts"
import { fastSupervisorOptions, waitUntil } from "./supervisorHarness.ts"
import { configFor } from "./tempConfig.ts"

export const fastRunsOptions: Partial<RunsOptions> = { idleGraceMs: 100, interruptGraceMs: 2_000 }

export interface DaemonServices {
  readonly runs: Runs["Service"]
  readonly sessions: Sessions["Service"]
  readonly approvals: Approvals["Service"]
  readonly supervisor: Supervisor["Service"]
  readonly store: Store["Service"]
  readonly events: Array<RecentEvent>
  /** The next recorded event matching `predicate` (or one already recorded). */
  readonly waitForEvent: (predicate: (e: RecentEvent) => boolean, what?: string) => Promise<RecentEvent>
  /** The run's record once it has finished. */
  readonly finished: (runId: RunId) => Promise<RunRecord>
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
}

/** Flags for a config whose child is the fake app-server (codex-like) with its scripts in `dir`. */
export const fakeDaemonConfig = (dir: string, flags: Partial<Record<SettingKey, string>> = {}) =>
  configFor(dir, {
    childCommand: process.execPath,
    childArgs: JSON.stringify([fakeAppServerPath, "--script-dir", dir]),
    ...flags,
  })

export const withDaemonServices = <A>(
  config: ReturnType<typeof configFor>,
  body: (services: DaemonServices) => Promise<A>,
  runsOptions: Partial<RunsOptions> = fastRunsOptions,
  /** Keep every event for `events` and `waitForEvent` (off for memory benches: the list grows). */
  record = true,
): Promise<A> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const eventLog = yield* EventLog
        const supervisor = yield* Supervisor
        const recorded: Array<RecentEvent> = []
        /** Runs whose end someone awaits: resolved by the event itself, not by polling for it. */
        const ended = new Map<string, () => void>()
        const endedRuns = new Set<string>()
        // From seq 0: what the services published while they were built (recovery) is replayed too.
        const subscription = yield* eventLog.subscribe({ since: 0, bound: 1_000_000 })
        let stopped = false
        void (async () => {
          for await (const item of subscription) {
            if (stopped) return
            if (item._tag !== "Event") continue
            if (record) recorded.push(item.event)
            const { type, detail } = item.event
            if ((type === "run.completed" || type === "run.failed") && typeof detail?.runId === "string") {
              endedRuns.add(detail.runId)
              ended.get(detail.runId)?.()
            }
          }
        })()
        yield* supervisor.start
        yield* supervisor.settled
        const services = yield* Effect.context<never>()
        const run = <B, E>(effect: Effect.Effect<B, E>) => Effect.runPromiseWith(services)(effect)
        const waitForEvent = async (predicate: (e: RecentEvent) => boolean, what = "event") => {
          await waitUntil(() => recorded.some(predicate), 20_000, what)
          return recorded.find(predicate) as RecentEvent
        }
        const runs = yield* Runs
        const store = yield* Store
        const sessions = yield* Sessions
        const approvals = yield* Approvals
        const finished = async (runId: RunId) => {
          // The final event comes after the record, the session and the approvals are updated.
          if (!endedRuns.has(runId)) {
            let timer: ReturnType<typeof setTimeout> | undefined
            await new Promise<void>((resolve, reject) => {
              ended.set(runId, resolve)
              timer = setTimeout(() => reject(new Error(`timed out waiting for the end of ${runId}`)), 20_000)
            }).finally(() => {
              clearTimeout(timer)
              ended.delete(runId)
            })
          }
          return run(runs.get(runId))
        }
        const result = yield* Effect.promise(() =>
          body({
            runs,
            sessions,
            approvals,
            supervisor,
            store,
            events: recorded,
            waitForEvent,
            finished,
            run,
          }),
        )
        stopped = true
        subscription.close()
        return result
      }).pipe(Effect.provide(daemonLayer(config, fastSupervisorOptions, runsOptions))),
    ) as Effect.Effect<A>,
  )
