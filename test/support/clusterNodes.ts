/** Nodes of a cluster as processes (test/fixtures/clusterNode.ts), fed commands and read line by line. */
import { mkdirSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { execa } from "execa"
import { isLiveProcessOf } from "../../src/services/supervisor/staleChild.ts"

const fixture = join(import.meta.dirname, "..", "fixtures", "clusterNode.ts")

export interface ClusterNodeProcess {
  readonly nodeId: string
  readonly dir: string
  readonly lines: Array<string>
  readonly send: (command: Record<string, unknown>) => void
  /** The first line starting with `prefix`, once it is there. */
  readonly waitForLine: (prefix: string, timeoutMs?: number) => Promise<string>
  readonly kill: (signal: NodeJS.Signals) => Promise<void>
  /** The turns its fake app-server started: one JSON line each. */
  readonly turns: () => ReadonlyArray<{ readonly threadId: string; readonly prompt: string }>
  /** Kill whatever fake app-server of this node still lives. */
  readonly reapChildren: () => void
}

export const startClusterNode = (
  root: string,
  options: {
    readonly nodeId: string
    readonly url: string
    readonly leaseMs: number
    readonly maxRuns: number
  },
): ClusterNodeProcess => {
  const dir = join(root, options.nodeId)
  mkdirSync(dir, { recursive: true })
  const child = execa(
    process.execPath,
    [fixture, dir, options.url, options.nodeId, String(options.leaseMs), String(options.maxRuns)],
    { reject: false, buffer: false, stderr: "inherit", stdin: "pipe" },
  )
  const lines: Array<string> = []
  let exited = false
  void child.finally(() => {
    exited = true
  })
  const reading = (async () => {
    for await (const line of child.iterable()) lines.push(String(line))
  })()
  const waitForLine = async (prefix: string, timeoutMs = 60_000) => {
    const until = Date.now() + timeoutMs
    for (;;) {
      const found = lines.find((l) => l.startsWith(prefix))
      if (found !== undefined) return found
      if (exited || Date.now() > until)
        throw new Error(`no "${prefix}" from node ${options.nodeId}; saw ${lines.slice(-5).join(" | ")}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  return {
    nodeId: options.nodeId,
    dir,
    lines,
    send: (command) => child.stdin?.write(`${JSON.stringify(command)}\n`),
    waitForLine,
    kill: async (signal) => {
      child.kill(signal)
      await child
      await reading
    },
    turns: () => {
      let text = ""
      try {
        text = readFileSync(join(dir, "turns.jsonl"), "utf8")
      } catch {
        return []
      }
      return text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { threadId: string; prompt: string })
    },
    reapChildren: () => {
      for (const name of readdirSync(dir).filter((n) => n.startsWith("spawn-"))) {
        const pid = Number(readFileSync(join(dir, name), "utf8"))
        if (isLiveProcessOf(pid, process.execPath)) process.kill(pid, "SIGKILL")
      }
    },
  }
}
