/**
 * `codexd sessions [list|new|close ID]`: the sessions; a new one (its model, sandbox, approvals and
 * purpose), started on a thread; closing one. Ids may be shortened to any unambiguous prefix.
 */
import type { SessionList } from "../domain/apiAnswers.ts"
import { answer, table, text, withApi } from "./clientSupport.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"
import { resolveIdPrefix } from "./idPrefix.ts"

const listing = (body: typeof SessionList.Type): string =>
  table([
    ["SESSION", "PURPOSE", "STATUS", "APPROVALS", "LAST TURN", "THREAD"],
    ...body.sessions.map((s) => [
      text(s.sessionId),
      text(s.purpose),
      text(s.status),
      text(s.approvals),
      text(s.lastTurnStatus),
      text(s.threadId),
    ]),
  ])

const stringFlag = (value: string | true | undefined): string | undefined =>
  typeof value === "string" ? value : undefined

export const sessionsCommand: Command = {
  name: "sessions",
  maxPositionals: 2,
  summary: "list the sessions; `sessions new` starts one, `sessions close ID` closes one",
  usage:
    "codexd sessions [list] [--json] | sessions new [--model M] [--sandbox S] [--approvals A] [--purpose P] [--cwd DIR] | sessions close ID",
  flags: {
    ...jsonFlag,
    model: { kind: "string", placeholder: "MODEL", describe: "new: the model codex uses for the session" },
    sandbox: {
      kind: "string",
      placeholder: "MODE",
      describe: "new: read-only, workspace-write or danger-full-access",
    },
    approvals: {
      kind: "string",
      placeholder: "MODE",
      describe: "new: ask, auto-accept or auto-decline (what codexd does with codex's requests)",
    },
    purpose: {
      kind: "string",
      placeholder: "PURPOSE",
      describe: "new: worker, duplex or smoke (default duplex)",
    },
    cwd: { kind: "string", placeholder: "DIR", describe: "new: the working directory of its turns" },
  },
  needsConfig: true,
  run: ({ args, config, io }) => {
    const [action = "list", id] = args.positionals
    const json = args.flags.json === true
    if (action !== "list" && action !== "new" && action !== "close") {
      io.err(`codexd sessions: unknown action ${JSON.stringify(action)}: list, new or close\n`)
      return Promise.resolve(ExitCode.usage)
    }
    if ((action === "close") !== (id !== undefined)) {
      io.err(
        `codexd sessions: ${action === "close" ? "close needs a session id" : `unexpected argument ${JSON.stringify(id)}`}\n`,
      )
      return Promise.resolve(ExitCode.usage)
    }
    return withApi("sessions", config, io, async (client) => {
      if (action === "list")
        return answer(
          "sessions",
          io,
          json,
          client.sessions.list().then((sessions) => ({ sessions })),
          listing,
        )
      if (action === "new") {
        const body = Object.fromEntries(
          (["model", "sandbox", "approvals", "purpose", "cwd"] as const).flatMap((name) => {
            const value = stringFlag(args.flags[name])
            return value === undefined ? [] : [[name, value]]
          }),
        )
        return answer(
          "sessions new",
          io,
          json,
          client.sessions.create(body),
          (s) => `${s.sessionId}  thread ${text(s.threadId)}  ${s.purpose}, approvals ${s.approvals}\n`,
        )
      }
      const known = (await client.sessions.list()).map((s) => s.sessionId)
      const match = resolveIdPrefix(id as string, known, "session")
      if ("problem" in match) {
        io.err(`codexd sessions close: ${match.problem}\n`)
        return ExitCode.usage
      }
      return answer(
        "sessions close",
        io,
        json,
        client.sessions.close(match.id),
        (s) => `${s.sessionId} ${s.status}\n`,
      )
    })
  },
}
