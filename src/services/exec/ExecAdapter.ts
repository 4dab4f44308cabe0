/**
 * ExecAdapter: exec mode's way to run a turn. Each turn is one `codex exec --json` process (argv from
 * `execArgv`, stdin closed so codex never waits for more input, its own process group), whose JSON
 * lines are translated into the app-server's notifications and handed to the run as the same events
 * app-server mode produces. stdout lines go to the child stdout log, stderr to the child stderr log.
 * Interrupting a turn stops its process (SIGTERM, then SIGKILL). Owns: those processes.
 * Does not own: the run's record or flow (LiveRun), the session's thread (Sessions).
 */
import { appendFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { execa } from "execa"
import { CodexdConfig } from "../../config.ts"
import { type AppServerEvent, toAppServerEvent } from "../../domain/appServer/events.ts"
import { type ExecRunSpec, execArgv } from "../../domain/exec/execArgv.ts"
import { makeExecTranslator, type Notification } from "../../domain/exec/execTranslation.ts"
import { RotatingAppender } from "../../system/logRotation.ts"
import { PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"
import { EventLog } from "../events/EventLog.ts"
import { redactText } from "../logging/redact.ts"
import { makeBridge } from "../runtime.ts"
import { LineSplitter } from "../transport/lineSplitter.ts"
import { processGroupOptions, SpawnError, stopGroup } from "../transport/processGroup.ts"

export interface ExecTurnSpec extends Omit<ExecRunSpec, "skipGitRepoCheck" | "outputSchemaPath"> {
  /** The id the turn's events carry: exec has no turn ids of its own. */
  readonly turnId: string
  /** The run's output schema; written to a private file for `--output-schema` while the turn runs. */
  readonly outputSchema: unknown
}

export interface ExecTurnHandlers {
  /** Each event of the turn, as app-server mode would have it. */
  readonly onEvent: (event: AppServerEvent) => void
  /** The process ended without saying how the turn ended (crash, kill from outside). */
  readonly onLost: (reason: string) => void
}

export interface ExecTurn {
  readonly pid: number
  /** Stop the process; the turn then ends `interrupted`. */
  readonly interrupt: () => void
}

export interface ExecAdapterOptions {
  readonly killTimeoutMs: number
}

/** How much of the end of stderr explains a lost process. */
const STDERR_TAIL_BYTES = 2_048

export class ExecAdapter extends Context.Service<
  ExecAdapter,
  {
    /** Start one turn; its events and its end arrive through the handlers. */
    readonly startTurn: (
      spec: ExecTurnSpec,
      handlers: ExecTurnHandlers,
    ) => Effect.Effect<ExecTurn, SpawnError>
  }
>()("codexd/ExecAdapter") {
  static readonly layer = (
    options: ExecAdapterOptions = { killTimeoutMs: 5_000 },
  ): Layer.Layer<ExecAdapter, never, CodexdConfig | EventLog> =>
    Layer.effect(ExecAdapter, makeExecAdapter(options))
}

const makeExecAdapter = (options: ExecAdapterOptions) =>
  Effect.gen(function* () {
    const config = yield* CodexdConfig
    const stderrLog = new RotatingAppender(config.paths.stderrLogPath, config.logRotation)
    const eventLog = yield* EventLog
    const bridge = yield* makeBridge<never>()
    const publish = (effect: Effect.Effect<unknown>) => bridge.fork(effect)
    /** Every exec process not yet exited, so the daemon's stop ends them all. */
    const live = new Set<() => Promise<unknown>>()

    const startTurn = (spec: ExecTurnSpec, handlers: ExecTurnHandlers) =>
      Effect.try({
        try: (): ExecTurn => {
          const outputSchemaPath =
            spec.outputSchema == null ? null : join(config.paths.stateDir, `exec-${spec.turnId}.schema.json`)
          if (outputSchemaPath !== null)
            writeFileSync(outputSchemaPath, JSON.stringify(spec.outputSchema), { mode: PRIVATE_FILE_MODE })
          const child = execa(
            config.server.childCommand,
            [...execArgv({ ...spec, outputSchemaPath, skipGitRepoCheck: true })],
            {
              cwd: config.server.childCwd,
              stdin: "ignore",
              stdout: "pipe",
              stderr: "pipe",
              ...processGroupOptions,
            },
          )
          const pid = child.pid
          if (pid === undefined || child.stdout === null || child.stderr === null) {
            void child.catch(() => undefined)
            throw new SpawnError({ command: config.server.childCommand, cause: "no process was started" })
          }

          const translator = makeExecTranslator(spec.turnId)
          let ended = false
          let interrupted = false
          const deliver = (notification: Notification) => {
            const event = toAppServerEvent(notification.method, notification.params, null)
            if (event.type === "turn.completed") ended = true
            handlers.onEvent(event)
          }
          const splitter = new LineSplitter({
            onLine: (line) => {
              if (line.trim() === "") return
              appendFileSync(config.paths.stdoutLogPath, `${redactText(line)}\n`, { mode: PRIVATE_FILE_MODE })
              const translated = translator.translate(line)
              if (translated.kind === "notifications") {
                for (const notification of translated.notifications) deliver(notification)
                return
              }
              publish(
                eventLog.publish({
                  level: "warn",
                  type: "child.malformed",
                  message: `codex exec wrote a bad line: ${translated.reason}`,
                  detail: { reason: translated.reason, excerpt: line.slice(0, 512), length: line.length },
                }),
              )
            },
            onOversizedLine: (bytes) =>
              publish(
                eventLog.publish({
                  level: "warn",
                  type: "child.malformed",
                  message: `codex exec wrote a line of ${bytes} bytes, too large to read; skipped`,
                  detail: { reason: "oversized", length: bytes },
                }),
              ),
          })
          const stdoutEnded = new Promise<void>((resolve) => {
            child.stdout.on("data", (chunk: Buffer) => splitter.push(chunk))
            child.stdout.on("close", () => {
              splitter.end()
              resolve()
            })
          })
          let stderrTail = ""
          child.stderr.on("data", (chunk: Buffer) => {
            stderrLog.append(chunk)
            stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES)
          })

          let exitedFlag = false
          const exited = child.then((result) => {
            exitedFlag = true
            return { exitCode: result.exitCode ?? null, signal: result.signal ?? null }
          })
          const stop = () => stopGroup(pid, exited, () => exitedFlag, options.killTimeoutMs)
          live.add(stop)
          void Promise.all([exited, stdoutEnded]).then(([exit]) => {
            live.delete(stop)
            if (outputSchemaPath !== null) rmSync(outputSchemaPath, { force: true })
            if (ended) return
            if (interrupted) {
              // What app-server mode reports for an interrupted turn.
              deliver({
                method: "turn/completed",
                params: {
                  threadId: translator.threadId() ?? "",
                  turn: { id: spec.turnId, status: "interrupted", error: null, items: [] },
                },
              })
              return
            }
            const how = exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`
            const said = stderrTail.trim().split("\n").at(-1) ?? ""
            handlers.onLost(`codex exec ended (${how}) before its turn did${said === "" ? "" : `: ${said}`}`)
          })
          return {
            pid,
            interrupt: () => {
              interrupted = true
              void stop()
            },
          }
        },
        catch: (error) =>
          error instanceof SpawnError
            ? error
            : new SpawnError({ command: config.server.childCommand, cause: String(error) }),
      })

    yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([...live].map((stop) => stop()))))
    return ExecAdapter.of({ startTurn })
  })
