/**
 * `codexd run <prompt>`: submit a run and, unless `--no-follow`, stream the agent's text to stdout as
 * it arrives; exit 0 when the run completed, 1 when it failed (`--json`: only the final run record).
 */
import * as Result from "effect/Result"
import { connectApi, errorMessage, readFrames } from "../client/apiConnection.ts"
import { decodeValue } from "../domain/decode.ts"
import type { RecentEvent } from "../domain/event.ts"
import { RunRecord } from "../domain/run.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"
import { liveLine } from "./runView.ts"

export const runCommand: Command = {
  name: "run",
  maxPositionals: Number.POSITIVE_INFINITY,
  summary: "run a prompt (in a session, or a new worker session) and stream the agent's answer",
  usage: "codexd run <prompt> [--session ID] [--cwd DIR] [--approvals MODE] [--json] [--no-follow]",
  flags: {
    ...jsonFlag,
    session: {
      kind: "string",
      placeholder: "ID",
      describe: "run in this session (default: a new worker session)",
    },
    cwd: { kind: "string", placeholder: "DIR", describe: "working directory of the turn" },
    "no-follow": { kind: "boolean", describe: "print the queued run and return at once" },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const prompt = args.positionals.join(" ").trim()
    if (prompt === "") {
      io.err('codexd run: a prompt is required, e.g. codexd run "explain this repo"\n')
      return ExitCode.usage
    }
    const api = connectApi(config)
    if ("noDaemon" in api) {
      io.err(`codexd run: ${api.noDaemon}; start one with \`codexd start\`\n`)
      return ExitCode.noDaemon
    }
    const json = args.flags.json === true
    const body = {
      prompt,
      ...(typeof args.flags.session === "string" ? { sessionId: args.flags.session } : {}),
      ...(typeof args.flags.cwd === "string" ? { cwd: args.flags.cwd } : {}),
      ...(typeof args.flags.approvals === "string" ? { approvals: args.flags.approvals } : {}),
    }
    // A turn without a login fails only after codex's retries: say so before it is even queued.
    const login = await api.call("GET", "/v1/codex/login").catch(() => null)
    if (login?.status === 200 && login.json.loggedIn === false && typeof login.json.hint === "string")
      io.err(`codexd run: ${login.json.hint}\n`)
    const submitted = await api.call("POST", "/v1/runs", body)
    if (submitted.status !== 202) {
      io.err(`codexd run: ${errorMessage(submitted)}\n`)
      return submitted.status < 500 && submitted.status !== 409 ? ExitCode.usage : ExitCode.failed
    }
    const acknowledged = decodeValue(RunRecord, "the daemon's answer")(submitted.json)
    if (Result.isFailure(acknowledged)) {
      io.err(`codexd run: ${acknowledged.failure.message}\n`)
      return ExitCode.failed
    }
    const runId = acknowledged.success.runId
    if (args.flags["no-follow"] === true) {
      io.out(json ? `${JSON.stringify(submitted.json)}\n` : `${runId}\n`)
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
        void api.call("POST", `/v1/runs/${encodeURIComponent(runId)}/interrupt`).catch(() => undefined)
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
    const record = async (): Promise<RunRecord | null> => {
      const reply = await api.call("GET", `/v1/runs/${encodeURIComponent(runId)}`)
      return reply.status === 200 ? Result.getOrNull(decodeValue(RunRecord, "the run")(reply.json)) : null
    }
    let printed = false
    let midLine = false
    let lastSeq = 0
    let final: RunRecord | null = null
    // The run's end must never be missed: when the stream says events were dropped from the cache
    // (`reset`) or ends without the run's end, the record decides; the stream resumes after the last
    // event seen. From seq 0 at first: the cache replays whatever happened before we connected.
    let unanswered = 0
    const following = async (): Promise<RunRecord | ExitCode> => {
      for (let attempt = 0; final === null; attempt++) {
        let ended = false
        let interrupted = false
        try {
          const stream = await api.stream(`?since=${lastSeq}&runId=${encodeURIComponent(runId)}`)
          await readFrames(stream, ({ event, id, data }) => {
            if (id !== null) lastSeq = id
            const detail = (data as RecentEvent | null)?.detail
            if (event === "run.message.delta" && !json) {
              io.out(String(detail?.delta ?? ""))
              printed = true
              midLine = !String(detail?.delta ?? "").endsWith("\n")
            } else if (!json && data !== null && typeof data === "object") {
              const line = liveLine(data as RecentEvent)
              if (line !== null) {
                // On its own line, even in the middle of the streamed answer.
                io.err(`${midLine ? "\n" : ""}${line}\n`)
                midLine = false
              }
            }
            // Whatever was before the cache's oldest event is gone: the record tells if the end was.
            if (event === "reset")
              lastSeq = Math.max(lastSeq, Number((data as { oldestSeq?: number }).oldestSeq ?? 1) - 1)
            ended = event === "run.completed" || event === "run.failed"
            interrupted = event === "reset" || event === "dropped"
            return !ended && !interrupted
          })
        } catch {
          // The daemon went away mid-stream (a restart): ask the record, then follow again.
        }
        const now = await record().catch(() => null)
        unanswered = now === null ? unanswered + 1 : 0
        if (unanswered >= 30) {
          io.err(
            `codexd run: the daemon stopped answering; the run's state is unknown (codexd runs ${runId})\n`,
          )
          return ExitCode.failed
        }
        if (now !== null && (now.status === "completed" || now.status === "failed")) final = now
        else if (!ended && !interrupted)
          await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)))
      }
      return final
    }
    // Left by Ctrl-C: the process exits with the follow still pending; the run goes on in the daemon.
    const outcome = await Promise.race([following(), detached.then(() => ExitCode.interrupted)])
    process.off("SIGINT", onCtrlC)
    if (typeof outcome === "number") return outcome
    final = outcome
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
