/** `codexd nodes [--json]`: the nodes of the cluster (CODEXD_QUEUE_URL), read from its database. */
import * as Effect from "effect/Effect"
import { listNodes, type NodeView, readCluster } from "../services/cluster/clusterViews.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

const row = (node: NodeView): ReadonlyArray<string> => [
  node.nodeId,
  node.state,
  `${node.claims}/${node.maxRuns}`,
  `${(node.heartbeatAgeMs / 1000).toFixed(1)}s ago`,
  node.apiBase ?? "-",
]

export const renderNodes = (nodes: ReadonlyArray<NodeView>): string => {
  const rows = [["node", "state", "claims", "heartbeat", "api"], ...nodes.map(row)]
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? []
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`
}

export const nodesCommand: Command = {
  name: "nodes",
  summary: "list the nodes of the cluster: state, claims of runs / their limit, last heartbeat, API",
  usage: "codexd nodes [--json]",
  flags: { ...jsonFlag },
  needsConfig: true,
  run: async ({ args, config, io, run }) => {
    const url = config.cluster?.queueUrl ?? null
    if (url === null) {
      io.err("codexd nodes: not a cluster node: set CODEXD_QUEUE_URL (or --queue-url)\n")
      return ExitCode.usage
    }
    const nodes = await run(
      readCluster(url, listNodes).pipe(Effect.catch((error) => Effect.succeed(error.message))),
    )
    if (typeof nodes === "string") {
      io.err(`codexd nodes: ${nodes}\n`)
      return ExitCode.failed
    }
    io.out(args.flags.json === true ? `${JSON.stringify({ nodes }, null, 2)}\n` : renderNodes(nodes))
    return ExitCode.ok
  },
}
