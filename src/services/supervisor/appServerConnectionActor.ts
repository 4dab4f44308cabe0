/**
 * The `appServerConnection` actor of the external strategy, as an Effect program that lives as long
 * as the actor: one WebSocket connection to an app-server someone else runs
 * (`codex app-server --listen ws://…`, or the shared `codex app-server daemon` on its Unix socket),
 * with its client. Reports the readiness gate (initialize
 * answered) and the connection's end as the child's exit; stopping the actor only closes the
 * connection. The server itself is never signalled: it is not ours.
 */
import { readFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { CODEX_DAEMON_ENDPOINT } from "../../config.ts"
import type { CodexDaemonTarget } from "../../domain/config.ts"
import type { AppServerConnectionInput, ChildMachineEvent } from "../../machines/childMachine.ts"
import { makeAppServerClient } from "../appServer/AppServerClient.ts"
import type { Bridge } from "../runtime.ts"
import { TransportClosedError } from "../transport/Transport.ts"
import { connectWsTransport } from "../transport/wsTransport.ts"
import { type ChildActorOptions, eventTime, handshake } from "./attachment.ts"
import { type makeDaemonStartBudget, startCodexDaemon } from "./codexDaemon.ts"

export interface AppServerConnectionActorOptions extends ChildActorOptions {
  /** The capability token of a server started with `--ws-auth capability-token`; read at each attempt. */
  readonly tokenFile: string | null
  /** The shared codex daemon behind the endpoint, which codexd starts again when it does not answer. */
  readonly codexDaemon: {
    readonly target: CodexDaemonTarget
    readonly command: string
    readonly cwd: string
    readonly budget: ReturnType<typeof makeDaemonStartBudget>
  } | null
}

/**
 * The WebSocket URL of an endpoint: ws:// as given; a Unix socket (`unix://PATH`, or the codex
 * daemon's) in the `ws` client's `ws+unix://PATH:/` form (codex's control socket speaks WebSocket).
 */
export const webSocketUrlOf = (endpoint: string, codexDaemon: CodexDaemonTarget | null): string => {
  if (endpoint === CODEX_DAEMON_ENDPOINT && codexDaemon !== null)
    return `ws+unix://${codexDaemon.socketPath}:/`
  if (endpoint.startsWith("unix://")) return `ws+unix://${endpoint.slice("unix://".length)}:/`
  return endpoint
}

class ServerTokenError extends Schema.TaggedError<ServerTokenError>()("ServerTokenError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `cannot read the server token ${this.path}: ${this.reason}`
  }
}

const readToken = (path: string) =>
  Effect.try({
    try: () => readFileSync(path, "utf8").trim(),
    catch: (error) => new ServerTokenError({ path, reason: String(error) }),
  }).pipe(
    Effect.filterOrFail(
      (token) => token !== "",
      () => new ServerTokenError({ path, reason: "the file is empty" }),
    ),
  )

export const appServerConnectionActor = (bridge: Bridge<never>, options: AppServerConnectionActorOptions) =>
  bridge.fromScoped<ChildMachineEvent, AppServerConnectionInput>((input, sendBack) =>
    Effect.gen(function* () {
      const dropped = (error: string) =>
        Effect.flatMap(eventTime, (at) =>
          Effect.sync(() => sendBack({ type: "CHILD.EXITED", exitCode: null, signal: null, error, ...at })),
        )
      // A token that cannot be read is a failed attempt: the file may appear before the next one.
      const token = yield* Effect.result(
        options.tokenFile === null ? Effect.succeed(undefined) : readToken(options.tokenFile),
      )
      if (token._tag === "Failure") return yield* dropped(token.failure.message)

      const url = webSocketUrlOf(input.endpoint, options.codexDaemon?.target ?? null)
      const connect = Effect.result(
        Effect.acquireRelease(
          Effect.tryPromise({
            try: () =>
              connectWsTransport({
                url,
                ...(token.success === undefined ? {} : { token: token.success }),
                ...(options.onRawLine === undefined ? {} : { onRawLine: options.onRawLine }),
              }),
            catch: (error) =>
              error instanceof TransportClosedError
                ? error.reason
                : error instanceof Error
                  ? error.message
                  : String(error),
          }),
          (transport) => Effect.sync(() => transport.close()),
        ),
      )
      let opened = yield* connect
      // The shared daemon is down (codex does not restart it): start it, within the budget, and
      // attach again. `daemon start` leaves a daemon that already runs alone.
      const daemon = options.codexDaemon
      if (opened._tag === "Failure" && daemon !== null) {
        const refused = yield* daemon.budget.take
        if (refused !== null) return yield* dropped(`${opened.failure}; ${refused}`)
        const started = yield* Effect.result(startCodexDaemon(daemon.command, daemon.cwd))
        if (started._tag === "Failure") return yield* dropped(started.failure.message)
        opened = yield* connect
      }
      if (opened._tag === "Failure") return yield* dropped(opened.failure)

      const transport = opened.success
      const client = yield* makeAppServerClient(transport, options.clientOptions)
      const outcome = yield* handshake(client, options.sink)
      if (outcome._tag === "Ready")
        sendBack({ type: "CHILD.READY", userAgent: outcome.userAgent, ...(yield* eventTime) })
      // Reachable but refusing the handshake: drop this connection and try again later.
      if (outcome._tag === "Refused") transport.close()
      const closed = yield* client.closed
      options.sink.detach(client)
      yield* dropped(outcome._tag === "Refused" ? outcome.reason : closed.reason)
    }),
  )
