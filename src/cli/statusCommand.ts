/** `codexd status [--json]`: the status snapshot; exit 3 when no daemon runs. */
import type { StatusSnapshot } from "../domain/status.ts"
import { readStatus } from "../services/status/statusSnapshot.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

/** How codex is reached: the mode and strategy in a few words. */
const childHow = (child: StatusSnapshot["daemon"]["child"]): string =>
  child.mode === "exec"
    ? "exec mode (one codex exec per run)"
    : child.strategy === "external"
      ? `attached to ${child.endpoint}`
      : "spawned app-server"

const render = (snapshot: StatusSnapshot, runningPid: number | null): string => {
  const { daemon, identity, sessionRegistry, runRegistry, recentEvents } = snapshot
  const child = daemon.child
  const count = (status: string) => runRegistry.runs.filter((r) => r.status === status).length
  const lines = [
    runningPid !== null
      ? `codexd: running (pid ${runningPid}) since ${daemon.startedAt ?? "?"}, api ${daemon.apiBase ?? "none"}`
      : `codexd: not running${daemon.stoppedAt ? ` (stopped ${daemon.stoppedAt})` : ""}`,
    `child:  ${child.status}${child.pid !== null ? ` pid ${child.pid}` : ""} [${child.machineState}]${child.userAgent ? ` ${child.userAgent}` : ""}, ${childHow(child)}, restarts ${child.restartCount}${child.lastError ? `, last error: ${child.lastError}` : ""}`,
    `daemon: ${identity.daemonId} on ${identity.nodeId}, state ${snapshot.config.paths.stateDir}`,
    `sessions: ${sessionRegistry.sessions.length} (${sessionRegistry.sessions.filter((s) => s.status === "active").length} active)   runs: ${runRegistry.runs.length} (${count("queued")} queued, ${count("running")} running, ${count("completed")} completed, ${count("failed")} failed)`,
    "recent events:",
    ...recentEvents.events
      .slice(-8)
      .map((e) => `  ${String(e.seq).padStart(6)} ${e.level.padEnd(5)} ${e.type.padEnd(18)} ${e.message}`),
  ]
  return `${lines.join("\n")}\n`
}

export const statusCommand: Command = {
  name: "status",
  summary: "print the status snapshot (works with or without a running daemon; exit 3 when none runs)",
  usage: "codexd status [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: async ({ args, config, io, run }) => {
    const { snapshot, runningPid, corruptFiles } = await run(readStatus(config))
    for (const report of corruptFiles) io.err(`codexd status: ${report.path} is corrupt: ${report.reason}\n`)
    if (snapshot === null) {
      if (args.flags.json === true) io.out(`${JSON.stringify(null)}\n`)
      io.err(
        `codexd status: no daemon has run on ${config.paths.stateDir}; start one with \`codexd start\`\n`,
      )
      return ExitCode.noDaemon
    }
    io.out(args.flags.json === true ? `${JSON.stringify(snapshot, null, 2)}\n` : render(snapshot, runningPid))
    if (runningPid === null) {
      io.err("codexd status: no daemon is running\n")
      return ExitCode.noDaemon
    }
    return ExitCode.ok
  },
}
