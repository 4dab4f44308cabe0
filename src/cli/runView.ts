/**
 * A run for people: `codexd runs ID` (what it was asked, how it ended, its final message, the commands
 * it ran with their exit codes, the diff's size, its tokens) and the live lines `codexd run` prints
 * beside the streamed answer (commands as they start and end, approvals with the decisions codex
 * offers, codex's warnings and retries).
 */
import type { RecentEvent } from "../domain/event.ts"
import type { RunRecord } from "../domain/run.ts"
import { turnTokens } from "../domain/usage.ts"

const text = (value: unknown): string => (value === null || value === undefined ? "-" : String(value))

/** Files, lines added and removed in a unified diff. */
export const diffStat = (diff: string): { files: number; added: number; removed: number } => {
  let files = 0
  let added = 0
  let removed = 0
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ")) files += 1
    else if (line.startsWith("+") && !line.startsWith("+++")) added += 1
    else if (line.startsWith("-") && !line.startsWith("---")) removed += 1
  }
  return { files, added, removed }
}

export const renderRunDetail = (run: RunRecord): string => {
  const result = run.result
  const fields: Array<[string, unknown]> = [
    ["run", run.runId],
    ["status", run.status],
    ["session", run.sessionId],
    ["thread", run.threadId],
    ["turn", run.turnId],
    ["prompt", run.prompt],
    ["created", run.createdAt],
    ["finished", run.finishedAt],
    ["error", run.errorCode === null ? null : `${text(run.errorCode)}: ${text(run.error)}`],
    ["summary", run.summary],
  ]
  if (result !== null) {
    const stat = result.diff === null ? null : diffStat(result.diff)
    fields.push(
      ["tokens", turnTokens(result.tokenUsage).toLocaleString("en")],
      ["diff", stat === null ? null : `${stat.files} files, +${stat.added} -${stat.removed}`],
    )
  }
  const lines = fields.map(([k, v]) => `${k.padEnd(9)} ${text(v)}`)
  if (result !== null && result.commands.length > 0) {
    lines.push("commands:")
    for (const c of result.commands) lines.push(`  [exit ${text(c.exitCode)}] ${c.command}`)
  }
  if (result?.finalMessage)
    lines.push("final message:", ...result.finalMessage.split("\n").map((l) => `  ${l}`))
  return `${lines.join("\n")}\n`
}

/** What `codexd run` says on stderr for an event of its run beside the answer; null for nothing. */
export const liveLine = (event: RecentEvent): string | null => {
  const detail = event.detail ?? {}
  switch (event.type) {
    case "run.command.started":
      return `$ ${text(detail.command)}`
    case "run.command.completed":
      return `  exit ${text(detail.exitCode)}`
    case "approval.requested": {
      const decisions = Array.isArray(detail.availableDecisions)
        ? (detail.availableDecisions as ReadonlyArray<unknown>).map(String).join("|")
        : "accept|decline"
      return `approval asked: ${event.message}${detail.cwd ? ` (in ${text(detail.cwd)})` : ""}${detail.reason ? `: ${text(detail.reason)}` : ""}\n  answer with: codexd approve ${text(detail.approvalId)} --decision ${decisions}`
    }
    case "run.warning":
      return `codex warns: ${event.message}`
    case "run.error":
      return detail.willRetry === true ? `codex retries: ${event.message}` : `codex error: ${event.message}`
    default:
      return null
  }
}
