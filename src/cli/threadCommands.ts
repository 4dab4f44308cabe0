/**
 * The CLI's thread operations on a session: `fork`, `revert`, `compact` and `review`. A fork and a
 * revert answer at once; a compaction and a review are runs, followed to their end (the review
 * printed) unless `--no-follow`. Exit codes as the other client commands; 1 when the run failed.
 */
import type { CodexdClient } from "../client/CodexdClient.ts"
import type { RunRecord } from "../domain/run.ts"
import type { ReviewTarget } from "../domain/threadOperations.ts"
import { answer, fullRunId, needsOne, text, withApi } from "./clientSupport.ts"
import { type CliIo, type Command, ExitCode, jsonFlag } from "./command.ts"

const sessionLine = (verb: string) => (s: { sessionId: string; threadId: string | null }) =>
  `session ${text(s.sessionId)} ${verb} (thread ${text(s.threadId)})\n`

export const forkCommand: Command = {
  name: "fork",
  maxPositionals: 1,
  summary: "fork a session into a new one on a copy of its thread",
  usage: "codexd fork <sessionId> [--run RUNID] [--json]",
  flags: {
    ...jsonFlag,
    run: { kind: "string", placeholder: "RUNID", describe: "fork through this run's turn (default: all)" },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const sessionId = needsOne("fork", "a session id", args.positionals, io)
    if (sessionId === null) return ExitCode.usage
    return withApi("fork", config, io, async (client) => {
      const given = args.flags.run
      const runId = typeof given === "string" ? await fullRunId(client, given, "fork", io) : undefined
      if (runId === null) return ExitCode.usage
      const forked = client.sessions.fork(sessionId, runId === undefined ? {} : { runId })
      return answer("fork", io, args.flags.json === true, forked, sessionLine("forked"))
    })
  },
}

export const revertCommand: Command = {
  name: "revert",
  maxPositionals: 1,
  summary: "revert a session's thread to before a run's turn (history only, not files)",
  usage: "codexd revert <sessionId> --run RUNID [--json]",
  flags: {
    ...jsonFlag,
    run: { kind: "string", placeholder: "RUNID", describe: "the first run to leave the history" },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const sessionId = needsOne("revert", "a session id", args.positionals, io)
    const given = args.flags.run
    if (sessionId === null || typeof given !== "string") {
      if (typeof given !== "string") io.err("codexd revert: --run is required\n")
      return ExitCode.usage
    }
    return withApi("revert", config, io, async (client) => {
      const runId = await fullRunId(client, given, "revert", io)
      if (runId === null) return ExitCode.usage
      const reverted = client.sessions.revert(sessionId, runId)
      return answer("revert", io, args.flags.json === true, reverted, sessionLine("reverted"))
    })
  },
}

const followFlag = {
  "no-follow": { kind: "boolean", describe: "print the queued run and return" },
} as const

/** Queue an operation run, then (unless told not to) wait for its end and print it. */
const operationRun = async (
  name: string,
  client: CodexdClient,
  io: CliIo,
  flags: Readonly<Record<string, unknown>>,
  submit: Promise<RunRecord>,
  render: (run: RunRecord) => string,
): Promise<ExitCode> => {
  const json = flags.json === true
  if (flags["no-follow"] === true)
    return answer(name, io, json, submit, (r) => `run ${text(r.runId)} queued: ${r.prompt}\n`)
  let ended: RunRecord | null = null
  const code = await answer(
    name,
    io,
    json,
    submit.then(async (queued) => {
      const events = client.follow(queued.runId)
      for (;;) {
        const next = await events.next()
        if (next.done === true) {
          ended = next.value
          return next.value
        }
      }
    }),
    render,
  )
  return code === ExitCode.ok && ended !== null && (ended as RunRecord).status !== "completed"
    ? ExitCode.failed
    : code
}

export const compactCommand: Command = {
  name: "compact",
  maxPositionals: 1,
  summary: "compact a session's thread (a run; waits for its end)",
  usage: "codexd compact <sessionId> [--no-follow] [--json]",
  flags: { ...jsonFlag, ...followFlag },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const sessionId = needsOne("compact", "a session id", args.positionals, io)
    if (sessionId === null) return ExitCode.usage
    return withApi("compact", config, io, (client) =>
      operationRun("compact", client, io, args.flags, client.sessions.compact(sessionId), (run) =>
        run.status === "completed" ? `session ${sessionId} compacted\n` : `${text(run.summary)}\n`,
      ),
    )
  },
}

export const reviewCommand: Command = {
  name: "review",
  maxPositionals: 1,
  summary: "review the uncommitted changes, a commit or a branch in a session (waits for the review)",
  usage: "codexd review <sessionId> [--commit SHA | --base BRANCH] [--no-follow] [--json]",
  flags: {
    ...jsonFlag,
    ...followFlag,
    commit: { kind: "string", placeholder: "SHA", describe: "review this commit" },
    base: { kind: "string", placeholder: "BRANCH", describe: "review the changes against this branch" },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const sessionId = needsOne("review", "a session id", args.positionals, io)
    if (sessionId === null) return ExitCode.usage
    const { commit, base } = args.flags
    if (typeof commit === "string" && typeof base === "string") {
      io.err("codexd review: --commit and --base exclude each other\n")
      return ExitCode.usage
    }
    const target: ReviewTarget =
      typeof commit === "string"
        ? { type: "commit", sha: commit }
        : typeof base === "string"
          ? { type: "baseBranch", branch: base }
          : { type: "uncommittedChanges" }
    return withApi("review", config, io, (client) =>
      operationRun("review", client, io, args.flags, client.sessions.review(sessionId, target), (run) =>
        run.status === "completed"
          ? `${run.result?.review ?? run.result?.finalMessage ?? "(no review)"}\n`
          : `${text(run.summary)}\n`,
      ),
    )
  },
}
