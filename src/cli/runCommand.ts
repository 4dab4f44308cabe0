/**
 * `codexd run <prompt>`: submit a run and, unless `--no-follow`, stream the agent's text to stdout as
 * it arrives; exit 0 when the run completed, 1 when it failed (`--json`: only the final run record).
 */
import type { RecentEvent } from "../domain/event.ts"
import { connectApi, errorMessage, readFrames } from "./apiClient.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

export const runCommand: Command = {
  name: "run",
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
    const submitted = await api.call("POST", "/v1/runs", body)
    if (submitted.status !== 202) {
      io.err(`codexd run: ${errorMessage(submitted)}\n`)
      return submitted.status < 500 ? ExitCode.usage : ExitCode.failed
    }
    const runId = String(submitted.json.runId)
    if (args.flags["no-follow"] === true) {
      io.out(json ? `${JSON.stringify(submitted.json)}\n` : `${runId}\n`)
      return ExitCode.ok
    }
    if (!json) io.err(`run ${runId} queued\n`)
    // From seq 0 with the run's filter: the cache replays whatever happened before we connected.
    const stream = await api.stream(`?since=0&runId=${encodeURIComponent(runId)}`)
    let printed = false
    await readFrames(stream, ({ event, data }) => {
      const detail = (data as RecentEvent | null)?.detail
      if (event === "run.message.delta" && !json) {
        io.out(String(detail?.delta ?? ""))
        printed = true
      } else if (event === "approval.requested" && !json) {
        io.err(
          `\napproval asked: ${(data as RecentEvent).message} — answer with codexd approve ${String(detail?.approvalId)} --decision accept|decline\n`,
        )
      }
      return event !== "run.completed" && event !== "run.failed"
    })
    const final = await api.call("GET", `/v1/runs/${encodeURIComponent(runId)}`)
    if (json) io.out(`${JSON.stringify(final.json)}\n`)
    else {
      if (printed) io.out("\n")
      io.err(`run ${runId} ${String(final.json.summary ?? final.json.status)}\n`)
    }
    return final.json.status === "completed" ? ExitCode.ok : ExitCode.failed
  },
}
