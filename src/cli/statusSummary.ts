/**
 * What `codexd status` shows a person (a small table, as `pm2 status` does) and what `status --json
 * --brief` gives a script that polls: the daemon and child processes, runs by state, tokens, the last
 * error; not every run and event of the full snapshot. Pure: the resident sizes are looked up by the
 * caller (from /proc, where there is one).
 */
import { styleText } from "node:util"
import type { StatusSnapshot } from "../domain/status.ts"

export interface ProcessFigures {
  readonly pid: number | null
  readonly status: string
  readonly startedAt: string | null
  readonly restarts: number | null
  readonly rssMb: number | null
}

export interface StatusSummary {
  readonly running: boolean
  readonly apiBase: string | null
  readonly stateDir: string
  readonly nodeId: string
  readonly daemon: ProcessFigures
  readonly child: ProcessFigures & { readonly machineState: string; readonly userAgent: string | null }
  readonly runs: Readonly<Record<"queued" | "running" | "completed" | "failed", number>>
  readonly sessions: { readonly total: number; readonly active: number }
  /** Tokens of the runs in the registry, as codex counted each run's turn. */
  readonly tokens: number
  readonly lastError: string | null
  /** Queued runs wait until then: a turn hit the account's usage limit. */
  readonly heldUntil: string | null
}

export const summarize = (
  snapshot: StatusSnapshot,
  runningPid: number | null,
  rssMbOf: (pid: number | null) => number | null,
): StatusSummary => {
  const { daemon, runRegistry, sessionRegistry } = snapshot
  const child = daemon.child
  const count = (status: string) => runRegistry.runs.filter((r) => r.status === status).length
  const childPid = runningPid === null ? null : child.pid
  return {
    running: runningPid !== null,
    apiBase: runningPid === null ? null : daemon.apiBase,
    stateDir: snapshot.config.paths.stateDir,
    nodeId: snapshot.identity.nodeId,
    daemon: {
      pid: runningPid,
      status: runningPid === null ? "stopped" : "online",
      startedAt: runningPid === null ? null : daemon.startedAt,
      restarts: null,
      rssMb: rssMbOf(runningPid),
    },
    child: {
      pid: childPid,
      status: runningPid === null ? "stopped" : child.status,
      startedAt: runningPid === null ? null : child.startedAt,
      restarts: child.restartCount,
      rssMb: rssMbOf(childPid),
      machineState: child.machineState,
      userAgent: child.userAgent,
    },
    runs: {
      queued: count("queued"),
      running: count("running"),
      completed: count("completed"),
      failed: count("failed"),
    },
    sessions: {
      total: sessionRegistry.sessions.length,
      active: sessionRegistry.sessions.filter((s) => s.status === "active").length,
    },
    tokens: snapshot.usage.tokens,
    lastError: child.lastError,
    heldUntil: daemon.usageHold?.until ?? null,
  }
}

/** `3m 12s`, `2h 5m`, `4d 1h`: the two largest units, as pm2 shows uptime. */
export const uptimeText = (since: string | null, nowMs: number): string => {
  if (since === null) return "-"
  let seconds = Math.max(0, Math.floor((nowMs - Date.parse(since)) / 1000))
  const units: Array<[string, number]> = [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ]
  const parts: Array<string> = []
  for (const [unit, size] of units) {
    if (seconds >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(seconds / size)}${unit}`)
      seconds %= size
    }
    if (parts.length === 2) break
  }
  return parts.join(" ")
}

/** Green when all is well, red when it failed, yellow in between; plain when colour is off. */
const coloured = (status: string, stream: NodeJS.WriteStream): string => {
  const colour =
    status === "online" || status === "running"
      ? "green"
      : status === "failed" || status === "stopped"
        ? "red"
        : "yellow"
  // styleText leaves the text plain when `stream` is not a TTY or NO_COLOR / NODE_DISABLE_COLORS is set.
  return styleText(colour, status, { stream })
}

export const renderSummary = (summary: StatusSummary, nowMs: number, stream: NodeJS.WriteStream): string => {
  const row = (name: string, p: ProcessFigures, extra: string) => [
    name,
    p.pid === null ? "-" : String(p.pid),
    p.status,
    uptimeText(p.startedAt, nowMs),
    p.restarts === null ? "-" : String(p.restarts),
    p.rssMb === null ? "-" : `${p.rssMb.toFixed(0)} MB`,
    extra,
  ]
  const rows = [
    ["name", "pid", "status", "uptime", "restarts", "mem", ""],
    row("codexd", summary.daemon, summary.apiBase ?? ""),
    row("child", summary.child, `${summary.child.userAgent ?? ""} [${summary.child.machineState}]`.trim()),
  ]
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? []
  const lines = rows.map((r, index) =>
    r
      .map((cell, i) => {
        const padded = cell.padEnd(widths[i] ?? 0)
        return index > 0 && i === 2 ? padded.replace(cell, coloured(cell, stream)) : padded
      })
      .join("  ")
      .trimEnd(),
  )
  const { runs, sessions } = summary
  lines.push(
    "",
    `runs      ${runs.queued} queued, ${runs.running} running, ${runs.completed} completed, ${runs.failed} failed   tokens ${summary.tokens.toLocaleString("en")}`,
    `sessions  ${sessions.total} (${sessions.active} active)   node ${summary.nodeId}   state ${summary.stateDir}`,
  )
  if (summary.heldUntil !== null)
    lines.push(`held      queued runs wait for the usage limit to reset at ${summary.heldUntil}`)
  if (summary.lastError !== null) lines.push(`last error  ${summary.lastError}`)
  return `${lines.join("\n")}\n`
}
