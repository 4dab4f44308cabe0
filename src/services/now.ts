/** The current time from Effect's Clock as an ISO string: what every record's timestamps are made of. */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

export const nowIso: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (ms) =>
  new Date(ms).toISOString(),
)
