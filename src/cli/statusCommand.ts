/** `codexd status [--json]`: the status snapshot; exit 3 when no daemon runs. */
import * as Effect from "effect/Effect"
import type { StatusSnapshot } from "../domain/status.ts"
import { type ClusterCounts, countCluster, readCluster } from "../services/cluster/clusterViews.ts"
import { readStatus } from "../services/status/statusSnapshot.ts"
import { residentMb } from "../system/processes.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"
import { renderSummary, summarize } from "./statusSummary.ts"

const recentLines = (snapshot: StatusSnapshot): string =>
  [
    "",
    "recent events:",
    ...snapshot.recentEvents.events
      .slice(-8)
      .map((e) => `  ${String(e.seq).padStart(6)} ${e.level.padEnd(5)} ${e.type.padEnd(18)} ${e.message}`),
    "",
  ].join("\n")

const renderClusterCounts = (c: ClusterCounts): string =>
  `cluster   nodes ${c.nodes.up} up, ${c.nodes.lost} lost, ${c.nodes.stopped} stopped   runs ${c.runs.queued} queued (${c.waiting} unclaimed), ${c.runs.running} running, ${c.runs.completed} completed, ${c.runs.failed} failed   (${c.database})\n`

export const statusCommand: Command = {
  name: "status",
  summary: "print the status snapshot (works with or without a running daemon; exit 3 when none runs)",
  usage: "codexd status [--json] [--brief]",
  flags: {
    ...jsonFlag,
    brief: {
      kind: "boolean",
      describe: "only the summary: processes, runs by state, tokens, last error (no runs, no events)",
    },
  },
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
    const brief = args.flags.brief === true
    const summary = summarize(snapshot, runningPid, residentMb)
    // A cluster node also says what the whole cluster holds, from the shared database.
    const url = config.cluster?.queueUrl ?? null
    const cluster =
      url === null
        ? null
        : await run(
            readCluster(url, (db) => countCluster(db, config.nodeId)).pipe(
              Effect.catch((error) => Effect.succeed(error.message)),
            ),
          )
    if (typeof cluster === "string") io.err(`codexd status: the cluster cannot be read: ${cluster}\n`)
    const clusterPart = cluster === null || typeof cluster === "string" ? {} : { cluster }
    if (args.flags.json === true)
      io.out(`${JSON.stringify({ ...(brief ? summary : snapshot), ...clusterPart }, null, 2)}\n`)
    else
      io.out(
        renderSummary(summary, Date.now(), process.stdout) +
          ("cluster" in clusterPart ? renderClusterCounts(clusterPart.cluster) : "") +
          (brief ? "" : recentLines(snapshot)),
      )
    if (runningPid === null) {
      io.err("codexd status: no daemon is running\n")
      return ExitCode.noDaemon
    }
    return ExitCode.ok
  },
}
