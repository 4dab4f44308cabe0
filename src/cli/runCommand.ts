/**
 * `codexd run <prompt>`: submit a run and, unless `--no-follow`, stream the agent's text to stdout as
 * it arrives; exit 0 when the run completed, 1 when it failed (`--json`: only the final run record).
 * It is a CodexdClient program: submitting and following go through the client, like any other.
 */

import { connectApi } from "../client/apiConnection.ts"
import { CodexdClient, type RunOptions } from "../client/CodexdClient.ts"
import type { CodexdClientError } from "../client/clientErrors.ts"
import type { RunRecord } from "../domain/run.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"
import { runOptionFlags, runOptionsOf } from "./runOptionFlags.ts"
import { liveLine } from "./runView.ts"

/** The exit code of a refused submission: the request's fault is a usage error, the rest a failure. */
const exitOf = (error: CodexdClientError): ExitCode =>
  error._tag === "ConflictError" || error._tag === "DaemonError" ? ExitCode.failed : ExitCode.usage

const isClientError = (error: unknown): error is CodexdClientError =>
  typeof error === "object" && error !== null && "_tag" in error && error instanceof Error

export const runCommand: Command = {
  name: "run",
  maxPositionals: Number.POSITIVE_INFINITY,
  summary: "run a prompt (in a session, or a new worker session) and stream the agent's answer",
  usage:
    "codexd run <prompt> [--session ID] [--cwd DIR] [--model M] [--effort E] [--sandbox MODE] [--output-schema FILE] [--image PATH]... [--approvals MODE] [--json] [--no-follow]",
  flags: {
    ...jsonFlag,
    session: {
      kind: "string",
      placeholder: "ID",
      describe: "run in this session (default: a new worker session)",
    },
    cwd: { kind: "string", placeholder: "DIR", describe: "working directory of the turn" },
    ...runOptionFlags,
    "no-follow": { kind: "boolean", describe: "print the queued run and return at once" },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const prompt = args.positionals.join(" ").trim()
    if (prompt === "") {
      io.err('codexd run: a prompt is required, e.g. codexd run "explain this repo"\n')
      return ExitCode.usage
    }
    const turnOptions = runOptionsOf(args, process.cwd())
    if ("problem" in turnOptions) {
      io.err(`codexd run: ${turnOptions.problem}\n`)
      return ExitCode.usage
    }
    const api = connectApi(config)
    if ("noDaemon" in api) {
      io.err(`codexd run: ${api.noDaemon}; start one with \`codexd start\`\n`)
      return ExitCode.noDaemon
    }
    const client = CodexdClient.over(api)
    const json = args.flags.json === true
    const options: RunOptions = {
      ...turnOptions.options,
      ...(typeof args.flags.session === "string" ? { sessionId: args.flags.session } : {}),
      ...(typeof args.flags.cwd === "string" ? { cwd: args.flags.cwd } : {}),
      ...(typeof args.flags.approvals === "string"
        ? { approvals: args.flags.approvals as NonNullable<RunOptions["approvals"]> }
        : {}),
    }
    // A turn without a login fails only after codex's retries: say so before it is even queued.
    const login = await api.call("GET", "/v1/codex/login").catch(() => null)
    if (login?.status === 200 && login.json.loggedIn === false && typeof login.json.hint === "string")
      io.err(`codexd run: ${login.json.hint}\n`)
    let queued: RunRecord
    try {
      queued = await client.submit(prompt, options)
    } catch (error) {
      if (!isClientError(error) || error._tag === "DaemonNotRunningError") throw error
      io.err(`codexd run: ${error.message}\n`)
      return exitOf(error)
    }
    const runId = queued.runId
    if (args.flags["no-follow"] === true) {
      io.out(json ? `${JSON.stringify(queued)}\n` : `${runId}\n`)
      return ExitCode.ok
    }
    // Ctrl-C leaves the run to the daemon; a second one within 2 s interrupts it. Listened for
    // before anything is printed: whoever sees the run queued may press it at once.
    let interruptAsked = false
    let firstCtrlC: number | null = null
    let detach: (() => void) | null = null
    const detached = new Promise<void>((resolve) => {
      detach = resolve
    })
    const onCtrlC = () => {
      const now = Date.now()
      if (firstCtrlC !== null && now - firstCtrlC <= 2_000) {
        if (interruptAsked) return
        interruptAsked = true
        io.err(`\ninterrupting run ${runId}\n`)
        void client.runs.interrupt(runId).catch(() => undefined)
        return
      }
      firstCtrlC = now
      io.err(
        `\nthe run goes on in the daemon (codexd runs ${runId}; codexd interrupt ${runId} stops it); Ctrl-C again within 2 s interrupts it\n`,
      )
      setTimeout(() => {
        if (!interruptAsked) detach?.()
      }, 2_000).unref()
    }
    process.on("SIGINT", onCtrlC)
    if (!json) io.err(`run ${runId} queued\n`)
    let printed = false
    let midLine = false
    const following = async (): Promise<RunRecord> => {
      const events = client.follow(runId)
      for (;;) {
        const next = await events.next()
        if (next.done === true) return next.value
        const event = next.value
        if (json) continue
        if (event.type === "message.delta") {
          io.out(event.text)
          printed = true
          midLine = !event.text.endsWith("\n")
          continue
        }
        if (event.type === "run.queued" || event.type === "run.ended") continue
        const line = liveLine(event.event)
        if (line !== null) {
          // On its own line, even in the middle of the streamed answer.
          io.err(`${midLine ? "\n" : ""}${line}\n`)
          midLine = false
        }
      }
    }
    // Left by Ctrl-C: the process exits with the follow still pending; the run goes on in the daemon.
    const outcome = await Promise.race([following(), detached.then(() => ExitCode.interrupted)])
    process.off("SIGINT", onCtrlC)
    if (typeof outcome === "number") return outcome
    const final = outcome
    if (json) io.out(`${JSON.stringify(final)}\n`)
    else {
      // Exec mode streams no deltas: its answer is the final message.
      const finalMessage = final.result?.finalMessage ?? null
      if (!printed && finalMessage !== null && finalMessage !== "") io.out(`${finalMessage}\n`)
      else if (printed && midLine) io.out("\n")
      io.err(`run ${runId} ${final.summary ?? final.status}\n`)
    }
    return final.status === "completed" ? ExitCode.ok : ExitCode.failed
  },
}
