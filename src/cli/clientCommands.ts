/**
 * The CLI's client commands, CodexdClient programs: `runs [ID]`, `events`, `interrupt`, `steer`,
 * `approvals`, `approve`, `restart`. Compact tables for people, `--json` for programs; exit 3 when no
 * daemon runs, 2 for bad usage or a refused request, 1 when the daemon failed it.
 */
import * as Result from "effect/Result"
import { readFrames } from "../client/apiConnection.ts"
import type { ApprovalDecision } from "../domain/approval.ts"
import { decodeValue } from "../domain/decode.ts"
import { RecentEvent } from "../domain/event.ts"
import type { StatusSnapshot } from "../domain/status.ts"
import { answer, clip, fullRunId, needsOne, table, text, withApi } from "./clientSupport.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"
import { EventLines } from "./eventLines.ts"
import { renderRunDetail } from "./runView.ts"

export const runsCommand: Command = {
  name: "runs",
  maxPositionals: 1,
  summary: "list the runs, or show one",
  usage: "codexd runs [ID] [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: ({ args, config, io }) =>
    withApi("runs", config, io, async (client) => {
      const [given] = args.positionals
      const json = args.flags.json === true
      if (given !== undefined) {
        const id = await fullRunId(client, given, "runs", io)
        if (id === null) return ExitCode.usage
        return answer("runs", io, json, client.runs.get(id), renderRunDetail)
      }
      const listed = client.runs.list().then((runs) => ({ runs }))
      return answer("runs", io, json, listed, (body) =>
        table([
          ["RUN", "STATUS", "CREATED", "SUMMARY"],
          ...body.runs.map((r) => [
            text(r.runId),
            text(r.status),
            text(r.createdAt),
            clip(r.summary ?? r.prompt),
          ]),
        ]),
      )
    }),
}

export const approvalsCommand: Command = {
  name: "approvals",
  summary: "list approvals, pending first",
  usage: "codexd approvals [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: ({ args, config, io }) =>
    withApi("approvals", config, io, (client) =>
      answer(
        "approvals",
        io,
        args.flags.json === true,
        client.approvals.list().then((approvals) => ({ approvals })),
        (body) => {
          const all = body.approvals
          const sorted = [
            ...all.filter((a) => a.status === "pending"),
            ...all.filter((a) => a.status !== "pending").reverse(),
          ]
          return table([
            ["APPROVAL", "STATUS", "KIND", "DEADLINE", "RUN", "COMMAND"],
            ...sorted.map((a) => [
              text(a.approvalId),
              text(a.status),
              text(a.kind),
              text(a.deadlineAt),
              text(a.runId),
              clip(a.command),
            ]),
          ])
        },
      ),
    ),
}

export const approveCommand: Command = {
  name: "approve",
  maxPositionals: 1,
  summary: "answer a pending approval",
  usage: "codexd approve <id> --decision <accept|acceptForSession|decline|cancel> [--json]",
  flags: {
    ...jsonFlag,
    decision: {
      kind: "string",
      placeholder: "DECISION",
      describe: "accept, acceptForSession, decline or cancel",
    },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const id = needsOne("approve", "an approval id", args.positionals, io)
    const decision = args.flags.decision
    if (id === null || typeof decision !== "string") {
      if (typeof decision !== "string") io.err("codexd approve: --decision is required\n")
      return ExitCode.usage
    }
    return withApi("approve", config, io, (client) =>
      answer(
        "approve",
        io,
        args.flags.json === true,
        client.approvals.answer(id, decision as ApprovalDecision),
        (a) => `approval ${text(a.approvalId)} ${text(a.status)} (${text(a.decision)})\n`,
      ),
    )
  },
}

export const interruptCommand: Command = {
  name: "interrupt",
  maxPositionals: 1,
  summary: "interrupt a run",
  usage: "codexd interrupt <runId> [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const id = needsOne("interrupt", "a run id", args.positionals, io)
    if (id === null) return ExitCode.usage
    return withApi("interrupt", config, io, async (client) => {
      const runId = await fullRunId(client, id, "interrupt", io)
      if (runId === null) return ExitCode.usage
      return answer(
        "interrupt",
        io,
        args.flags.json === true,
        client.runs.interrupt(runId),
        (r) => `interrupt of run ${text(r.runId)} requested\n`,
      )
    })
  },
}

export const steerCommand: Command = {
  name: "steer",
  maxPositionals: Number.POSITIVE_INFINITY,
  summary: "steer a running run, or replace a queued run's prompt",
  usage: "codexd steer <runId> <text> [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const [id, ...words] = args.positionals
    const steerText = words.join(" ").trim()
    if (id === undefined || steerText === "") {
      io.err("codexd steer: a run id and the text are required\n")
      return ExitCode.usage
    }
    return withApi("steer", config, io, async (client) => {
      const runId = await fullRunId(client, id, "steer", io)
      if (runId === null) return ExitCode.usage
      return answer(
        "steer",
        io,
        args.flags.json === true,
        client.runs.steer(runId, steerText),
        (r) => `run ${text(r.runId)} steered\n`,
      )
    })
  },
}

export const eventsCommand: Command = {
  name: "events",
  summary: "print recent events, or follow them live",
  usage: "codexd events [-f|--follow] [-n N] [--since SEQ] [--run ID] [--type PREFIX] [--json]",
  flags: {
    ...jsonFlag,
    follow: { kind: "boolean", short: "f", describe: "keep printing events as they happen" },
    lines: { kind: "string", short: "n", placeholder: "N", describe: "only the last N recent events" },
    since: { kind: "string", placeholder: "SEQ", describe: "only events after this seq" },
    run: { kind: "string", placeholder: "ID", describe: "only the events of this run" },
    type: {
      kind: "string",
      placeholder: "PREFIX",
      describe: "only events whose type starts so (run.command)",
    },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const number = (name: string): number | null | undefined => {
      const value = args.flags[name]
      if (value === undefined) return undefined
      return typeof value === "string" && /^\d+$/.test(value) ? Number(value) : null
    }
    const since = number("since")
    const lines = number("lines")
    if (since === null || lines === null) {
      io.err(`codexd events: --${since === null ? "since" : "lines"} must be a non-negative integer\n`)
      return ExitCode.usage
    }
    const runId = typeof args.flags.run === "string" ? args.flags.run : null
    const typePrefix = typeof args.flags.type === "string" ? args.flags.type : null
    const wanted = (e: RecentEvent) =>
      (runId === null || e.detail?.runId === runId) && (typePrefix === null || e.type.startsWith(typePrefix))
    const json = args.flags.json === true
    const follow = args.flags.follow === true
    return withApi("events", config, io, async (client, api) => {
      let snapshot: StatusSnapshot
      try {
        snapshot = await client.status()
      } catch (error) {
        return answer("events", io, json, Promise.reject(error), () => "")
      }
      const after = since ?? 0
      const recent = snapshot.recentEvents.events.filter((e) => e.seq > after && wanted(e))
      const shown = lines === undefined ? recent : recent.slice(Math.max(0, recent.length - lines))
      const view = new EventLines()
      if (!follow) {
        io.out(json ? `${JSON.stringify(shown)}\n` : shown.map((e) => view.add(e)).join("") + view.end())
        return ExitCode.ok
      }
      // Following: one JSON line per event with --json (a stream has no single document).
      if (!json) io.out(shown.map((e) => view.add(e)).join(""))
      else for (const e of shown) io.out(`${JSON.stringify(e)}\n`)
      const from = shown.at(-1)?.seq ?? snapshot.recentEvents.lastSeq
      const res = await api.stream(
        `?since=${from}${runId === null ? "" : `&runId=${encodeURIComponent(runId)}`}`,
      )
      let dropped = false
      await readFrames(res, ({ event, data }) => {
        if (event === "reset")
          io.err(`codexd events: events before ${JSON.stringify(data)} are no longer cached\n`)
        else if (event === "dropped") io.err("codexd events: the daemon dropped this stream (too slow)\n")
        else {
          const decoded = decodeValue(RecentEvent, "an event")(data)
          if (Result.isFailure(decoded)) io.out(`${JSON.stringify(data)}\n`)
          else if (wanted(decoded.success))
            io.out(json ? `${JSON.stringify(data)}\n` : view.add(decoded.success))
        }
        dropped = event === "dropped"
        return !dropped
      })
      io.out(view.end())
      if (dropped) return ExitCode.failed
      // A followed stream has no end of its own: the daemon closed it because it stopped.
      io.err("codexd events: the daemon closed the event stream (it stopped)\n")
      return ExitCode.noDaemon
    })
  },
}

export const restartCommand: Command = {
  name: "restart",
  summary: "restart the app-server child: a running one is stopped gracefully and a new one started",
  usage: "codexd restart [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: ({ args, config, io }) =>
    withApi("restart", config, io, (client) =>
      answer(
        "restart",
        io,
        args.flags.json === true,
        client.restartChild(),
        (restart) => `restarting the app-server (it was ${restart.from}): ${restart.action}\n`,
      ),
    ),
}
