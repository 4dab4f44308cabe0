/**
 * What the child actors share: how an attachment (a spawned process's or an external connection's
 * client, once it answered `initialize`) is handed to the Supervisor and taken back, the time of a
 * machine event from Effect's Clock, and the readiness gate itself.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import type { AppServerClient, AppServerClientOptions } from "../appServer/AppServerClient.ts"

export interface AttachmentSink {
  /** This client answered initialize: it is the current one until `detach`. */
  readonly attach: (client: AppServerClient) => void
  /** This client is gone (a later one may already be current). */
  readonly detach: (client: AppServerClient) => void
}

export interface ChildActorOptions {
  readonly sink: AttachmentSink
  readonly clientOptions: AppServerClientOptions
  /** Every raw protocol line, when the protocol log is on. */
  readonly onRawLine?: (direction: "in" | "out", line: string) => void
}

/** The time of an event, as the machine wants it: ISO text and milliseconds. */
export const eventTime = Effect.map(Clock.currentTimeMillis, (atMs) => ({
  at: new Date(atMs).toISOString(),
  atMs,
}))

export type HandshakeOutcome =
  | { readonly _tag: "Ready"; readonly userAgent: string }
  /** Reachable but refusing the handshake: unusable. */
  | { readonly _tag: "Refused"; readonly reason: string }
  /** The transport closed first: whoever watches it reports why. */
  | { readonly _tag: "Closed" }

/**
 * The readiness gate: `initialize`. A ready client is attached for as long as the current scope
 * lives (it is detached when the scope closes).
 */
export const handshake = (
  client: AppServerClient,
  sink: AttachmentSink,
): Effect.Effect<HandshakeOutcome, never, Scope.Scope> =>
  Effect.gen(function* () {
    const outcome = yield* Effect.result(client.initialize)
    if (Result.isSuccess(outcome)) {
      yield* Effect.acquireRelease(
        Effect.sync(() => sink.attach(client)),
        () => Effect.sync(() => sink.detach(client)),
      )
      return { _tag: "Ready", userAgent: outcome.success.userAgent } as const
    }
    if (outcome.failure._tag === "TransportClosedError") return { _tag: "Closed" } as const
    return { _tag: "Refused", reason: `initialize failed: ${outcome.failure.message}` } as const
  })
