/**
 * The `childProcess` actor of the spawn strategy, as an Effect program that lives as long as the
 * actor: one `codex app-server` process with its client. Reports the spawn, the readiness gate
 * (initialize answered) and the exit with what explains it; stopping the actor closes its scope,
 * which stops the process (SIGTERM to the group, SIGKILL after the kill timeout).
 *
 * A new child is never spawned while an earlier one is still exiting: two app-servers on one
 * CODEX_HOME fight over its database.
 */
import * as Effect from "effect/Effect"
import type { ChildMachineEvent, ChildProcessInput } from "../../machines/childMachine.ts"
import { makeAppServerClient } from "../appServer/AppServerClient.ts"
import type { Bridge } from "../runtime.ts"
import { type AppServerProcess, spawnAppServer } from "../transport/appServerProcess.ts"
import type { SpawnError } from "../transport/processGroup.ts"
import type { StderrLog } from "../transport/stderrTail.ts"
import { type ChildActorOptions, eventTime, handshake } from "./attachment.ts"

export interface ChildProcessActorOptions extends ChildActorOptions {
  readonly stderrLog: StderrLog
  readonly killTimeoutMs: number
  /** Every process not yet exited, so a stop (or the next spawn) can wait for each. */
  readonly live: Set<AppServerProcess>
}

/** Why a child exited, in one line: how, when, and the last thing it said on stderr. */
export const exitReason = (
  exit: { readonly exitCode: number | null; readonly signal: string | null },
  ready: boolean,
  stderrLine: string,
  refused: string | null,
): string => {
  const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`
  const when = ready ? "after initialize" : "before answering initialize"
  const said = refused ?? (stderrLine === "" ? null : `stderr: ${stderrLine}`)
  return `${how} ${when}${said === null ? "" : `; ${said}`}`
}

export const childProcessActor = (bridge: Bridge<never>, options: ChildProcessActorOptions) =>
  bridge.fromScoped<ChildMachineEvent, ChildProcessInput>((input, sendBack) =>
    Effect.gen(function* () {
      yield* Effect.promise(() => Promise.all([...options.live].map((proc) => proc.exited)))
      const spawned = yield* Effect.result(
        Effect.acquireRelease(
          Effect.try({
            try: () =>
              spawnAppServer({
                command: input.command,
                args: input.args,
                cwd: input.cwd,
                stderrLog: options.stderrLog,
                ...(options.onRawLine === undefined ? {} : { onRawLine: options.onRawLine }),
              }),
            catch: (error) => error as SpawnError,
          }),
          (proc) => Effect.promise(() => proc.stop(options.killTimeoutMs)),
        ),
      )
      if (spawned._tag === "Failure") {
        sendBack({
          type: "CHILD.EXITED",
          exitCode: null,
          signal: null,
          error: spawned.failure.message,
          ...(yield* eventTime),
        })
        return
      }
      const proc = spawned.success
      options.live.add(proc)
      void proc.exited.then(() => options.live.delete(proc))
      sendBack({ type: "CHILD.SPAWNED", pid: proc.pid, ...(yield* eventTime) })

      const client = yield* makeAppServerClient(proc.transport, options.clientOptions)
      const outcome = yield* handshake(client, options.sink)
      if (outcome._tag === "Ready")
        sendBack({ type: "CHILD.READY", userAgent: outcome.userAgent, ...(yield* eventTime) })
      // Alive but refusing the handshake: kill it; its exit reports why.
      if (outcome._tag === "Refused") proc.signal("SIGKILL")

      const exit = yield* Effect.promise(() => proc.exited)
      // The transport has delivered its last line before the close: only then is the child gone.
      yield* client.closed
      options.sink.detach(client)
      sendBack({
        type: "CHILD.EXITED",
        exitCode: exit.exitCode,
        signal: exit.signal,
        error: exitReason(
          exit,
          outcome._tag === "Ready",
          proc.lastStderrLine(),
          outcome._tag === "Refused" ? outcome.reason : null,
        ),
        ...(yield* eventTime),
      })
    }),
  )
