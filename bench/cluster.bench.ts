/**
 * Cluster mode on the fake app-server (codex-like, each turn completes at once), beside the
 * single-node file store in the same run: runs per second through 1 and through 3 nodes sharing one
 * throwaway PostgreSQL, then the time from a run's acknowledgement to its start (the claim, plus the
 * worker thread's start) at p50 and p99, for runs submitted one at a time to an idle cluster. The file store runs in this process; the nodes are processes
 * of their own (test/fixtures/clusterNode.ts), fed through stdin, finished runs read from the database.
 */

import { writeFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { startThrowawayPostgres } from "../scripts/postgres.ts"
import type { RunRecord } from "../src/domain/run.ts"
import { startClusterNode } from "../test/support/clusterNodes.ts"
import { fakeDaemonConfig, withDaemonServices } from "../test/support/daemonHarness.ts"
import { report, tempDir } from "./harness.ts"

const RUNS = 600
const MAX_RUNS = 4
/** Runs one at a time on an idle cluster, for the latency from acknowledgement to start. */
const ONE_BY_ONE = 60

interface Measured {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
}

const percentile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

const measured = (
  records: ReadonlyArray<RunRecord>,
  elapsedMs: number,
  oneByOne: ReadonlyArray<RunRecord>,
): Measured => {
  if ([...records, ...oneByOne].some((r) => r.status !== "completed"))
    throw new Error("a bench run did not complete")
  const waits = oneByOne.map((r) => Date.parse(r.startedAt as string) - Date.parse(r.createdAt))
  return { perSecond: RUNS / (elapsedMs / 1000), p50: percentile(waits, 0.5), p99: percentile(waits, 0.99) }
}

const fileStore = async (): Promise<Measured> => {
  const dir = tempDir("codexd-bench-file-")
  try {
    writeFileSync(join(dir.path, "script.json"), JSON.stringify({ simulate: true }))
    const config = fakeDaemonConfig(dir.path, { maxConcurrentRuns: String(MAX_RUNS) })
    return await withDaemonServices(
      config,
      async (d) => {
        const start = performance.now()
        const submitted = await Promise.all(
          Array.from({ length: RUNS }, (_, i) => d.run(d.runs.submit({ prompt: `run ${i}` }))),
        )
        await d.run(d.runs.idle)
        const elapsed = performance.now() - start
        const all = await Promise.all(submitted.map((r) => d.run(d.runs.get(r.runId))))
        const oneByOne: Array<RunRecord> = []
        for (let i = 0; i < ONE_BY_ONE; i++) {
          const run = await d.run(d.runs.submit({ prompt: `alone ${i}` }))
          oneByOne.push(await d.finished(run.runId))
        }
        return measured(all, elapsed, oneByOne)
      },
      undefined,
      true,
    )
  } finally {
    dir.cleanup()
  }
}

const cluster = async (nodeCount: number): Promise<Measured> => {
  const postgres = await startThrowawayPostgres()
  const dir = tempDir("codexd-bench-cluster-")
  const db = new pg.Client({ connectionString: postgres.url })
  const nodes = Array.from({ length: nodeCount }, (_, i) =>
    startClusterNode(dir.path, {
      nodeId: `bench-${i}`,
      url: postgres.url,
      leaseMs: 30_000,
      maxRuns: MAX_RUNS,
    }),
  )
  try {
    await db.connect()
    for (const node of nodes) await node.waitForLine("ready")
    const start = performance.now()
    for (let i = 0; i < RUNS; i++) nodes[i % nodeCount]?.send({ submit: String(i), prompt: `run ${i}` })
    for (;;) {
      const done = (
        await db.query("SELECT count(*) AS n FROM codexd_runs WHERE status IN ('completed','failed')")
      ).rows[0].n
      if (Number(done) >= RUNS) break
      await new Promise((r) => setTimeout(r, 20))
    }
    const elapsed = performance.now() - start
    const records = (await db.query("SELECT record FROM codexd_runs")).rows.map((r) => r.record as RunRecord)
    const oneByOne: Array<RunRecord> = []
    for (let i = 0; i < ONE_BY_ONE; i++) {
      const node = nodes[i % nodeCount]
      node?.send({ submit: `alone-${i}`, prompt: `alone ${i}` })
      const runId = (await node?.waitForLine(`ack alone-${i} `))?.split(" ")[2]
      for (;;) {
        const row = (await db.query("SELECT record FROM codexd_runs WHERE run_id = $1", [runId])).rows[0]
        const record = row?.record as RunRecord | undefined
        if (record?.status === "completed" || record?.status === "failed") {
          oneByOne.push(record)
          break
        }
        await new Promise((r) => setTimeout(r, 5))
      }
    }
    return measured(records, elapsed, oneByOne)
  } finally {
    await db.end()
    await Promise.all(nodes.map((n) => n.kill("SIGTERM")))
    for (const node of nodes) node.reapChildren()
    postgres.stop()
    dir.cleanup()
  }
}

export const clusterBench = async (): Promise<void> => {
  const file = await fileStore()
  const one = await cluster(1)
  const three = await cluster(3)
  const rate = (label: string, m: Measured) => ({ label, value: m.perSecond, unit: "runs/s" })
  report(
    `cluster: ${RUNS} sessionless runs, ${MAX_RUNS} per node, fake app-server`,
    rate("1 node on PostgreSQL", one),
    rate("file store", file),
  )
  report(
    `cluster: ${RUNS} sessionless runs, ${MAX_RUNS} per node, fake app-server`,
    rate("3 nodes on PostgreSQL", three),
    rate("file store", file),
  )
  const wait = (label: string, m: Measured, p: "p50" | "p99") => ({
    label: `${label} ${p}`,
    value: m[p],
    unit: "ms",
  })
  for (const p of ["p50", "p99"] as const) {
    report(
      "cluster: acknowledged to started (claim + thread start)",
      wait("1 node", one, p),
      wait("file store", file, p),
    )
    report(
      "cluster: acknowledged to started (claim + thread start)",
      wait("3 nodes", three, p),
      wait("file store", file, p),
    )
  }
}
