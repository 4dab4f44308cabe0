/**
 * The official shared app-server of a CODEX_HOME (`codex app-server daemon`): started again with
 * `codex app-server daemon start` when its socket does not answer (codex does not restart it by
 * itself), within a crash-loop budget. codexd never runs `daemon stop` or `restart`, nor signals the
 * server: other clients share it.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { execa } from "execa"

/** `daemon start` installs the daemon's package on its first run: allow it time on a loaded machine. */
const DAEMON_START_TIMEOUT_MS = 120_000

/** The JSON line `daemon start` prints (`{"status":"started","pid":…,"socketPath":…,…}`). */
export const DaemonStartAnswer = Schema.Struct({
  status: Schema.String,
  socketPath: Schema.String,
  pid: Schema.optionalKey(Schema.Number),
  appServerVersion: Schema.optionalKey(Schema.NullOr(Schema.String)),
})
export type DaemonStartAnswer = typeof DaemonStartAnswer.Type

export class CodexDaemonStartError extends Schema.TaggedError<CodexDaemonStartError>()(
  "CodexDaemonStartError",
  { reason: Schema.String },
) {
  override get message(): string {
    return `codex app-server daemon start failed: ${this.reason}`
  }
}

const decodeAnswer = Schema.decodeUnknownOption(Schema.fromJsonString(DaemonStartAnswer))

/** The last line of stdout that is codex's answer (it prints nothing else there today). */
export const parseDaemonStartOutput = (stdout: string): DaemonStartAnswer | null => {
  for (const line of stdout.split("\n").reverse()) {
    const answer = decodeAnswer(line.trim())
    if (answer._tag === "Some") return answer.value
  }
  return null
}

/**
 * Run `codex app-server daemon start` for the environment's CODEX_HOME (the daemon's own,
 * inherited). It returns once the server runs, or at once when one already does.
 */
export const startCodexDaemon = (command: string, cwd: string) =>
  Effect.gen(function* () {
    const started = yield* Effect.promise((signal) =>
      execa(command, ["app-server", "daemon", "start"], {
        cwd,
        stdin: "ignore",
        reject: false,
        timeout: DAEMON_START_TIMEOUT_MS,
        cancelSignal: signal,
      }),
    )
    const answer = started.exitCode === 0 ? parseDaemonStartOutput(String(started.stdout)) : null
    if (answer !== null) return answer
    // What codex said last on stderr explains best; a binary that never ran has only execa's account.
    const stderrTail = String(started.stderr).trim().split("\n").at(-1) ?? ""
    const said =
      stderrTail !== "" ? stderrTail : "shortMessage" in started ? String(started.shortMessage) : "no answer"
    return yield* new CodexDaemonStartError({
      reason: started.exitCode === 0 ? `unreadable answer: ${String(started.stdout).slice(0, 200)}` : said,
    })
  })

/**
 * The crash-loop budget of daemon starts: more than `maxStarts` within `windowMs` and codexd stops
 * starting the daemon (it keeps attaching, so a daemon someone else starts is used) until the window
 * has passed. Times come from Effect's Clock.
 */
export const makeDaemonStartBudget = (maxStarts: number, windowMs: number) => {
  let starts: ReadonlyArray<number> = []
  return {
    /** Count one start now, or say (as an error text) why the budget refuses it. */
    take: Effect.map(Clock.currentTimeMillis, (now): string | null => {
      starts = starts.filter((t) => now - t < windowMs)
      if (starts.length >= maxStarts)
        return `gave up starting the codex daemon after ${maxStarts} starts within ${windowMs} ms (crash-loop budget); start it with \`codex app-server daemon start\``
      starts = [...starts, now]
      return null
    }),
  }
}
