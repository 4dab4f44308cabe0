/**
 * codex's rate-limit windows, kept in the daemon state so `status` (with or without a running
 * daemon), the API and the client show them: read from each new app-server child once it is up, then
 * merged from its `account/rateLimits/updated` notifications. Each change is told as a
 * `daemon.rateLimits.updated` event (what the dashboard's header reads them again on). A layer with no
 * service of its own: its fibers, owned by the layer's scope, follow the supervisor's children.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import { mergeRateLimits } from "../../domain/daemon.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import { EventLog } from "../events/EventLog.ts"
import { makeBridge } from "../runtime.ts"
import { Store } from "../store/Store.ts"
import { Supervisor } from "../supervisor/Supervisor.ts"

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The rate-limit snapshot an event carries, if it is an update of them. */
const updateOf = (event: AppServerEvent): Record<string, unknown> | null =>
  event.type === "notification" &&
  event.notificationMethod === "account/rateLimits/updated" &&
  isRecord(event.params) &&
  isRecord(event.params.rateLimits)
    ? event.params.rateLimits
    : null

/** The windows in a few words, for the event's message: `primary 42% used, secondary 7% used`. */
const describe = (limits: Readonly<Record<string, unknown>>): string => {
  const used = ["primary", "secondary"].flatMap((name) => {
    const window = limits[name]
    return isRecord(window) && typeof window.usedPercent === "number"
      ? [`${name} ${window.usedPercent}% used`]
      : []
  })
  return used.length === 0 ? "rate limits updated" : `rate limits: ${used.join(", ")}`
}

export const rateLimitsLayer: Layer.Layer<never, never, Supervisor | Store | EventLog> = Layer.effectDiscard(
  Effect.gen(function* () {
    const supervisor = yield* Supervisor
    const store = yield* Store
    const events = yield* EventLog
    const bridge = yield* makeBridge<never>()
    // The supervisor writes the daemon state first, as soon as there is a child to watch.
    const record = (update: Record<string, unknown>) =>
      Effect.flatMap(store.daemonState, (known) =>
        known === null
          ? Effect.void
          : store
              .updateDaemonState((state) => {
                const current = state ?? known
                return { ...current, rateLimits: mergeRateLimits(current.rateLimits, update) }
              })
              .pipe(
                Effect.flatMap(({ rateLimits }) =>
                  events.publish({
                    type: "daemon.rateLimits.updated",
                    message: describe(rateLimits ?? {}),
                    detail: { rateLimits: rateLimits ?? null },
                  }),
                ),
                Effect.ignore,
              ),
      )
    const watched = new WeakSet<AppServerClient>()
    const watch = (client: AppServerClient) =>
      Effect.gen(function* () {
        // Read once, for the windows before this child's first turn; an account without any (an API
        // key) answers an error or nothing, which leaves what is known as it is.
        const read = yield* client.request("account/rateLimits/read", {}).pipe(Effect.option)
        if (read._tag === "Some" && isRecord(read.value) && isRecord(read.value.rateLimits))
          yield* record(read.value.rateLimits)
        // By batch: the events are mostly deltas, and a step per delta was most of this layer's cost.
        yield* Stream.runForEachArray(client.events, (events) => {
          const updates = events.map(updateOf).filter((update) => update !== null)
          return updates.length === 0 ? Effect.void : Effect.forEach(updates, record, { discard: true })
        })
      })
    bridge.fork(
      Stream.runForEach(supervisor.changes, (view) =>
        Effect.sync(() => {
          const client = view.client
          if (client === null || watched.has(client)) return
          watched.add(client)
          bridge.fork(watch(client))
        }),
      ),
    )
  }),
)
