/**
 * Three nodes sharing one PostgreSQL on loopback, each over its own fake app-server, 1,000 runs (some
 * in sessions, some not), one node SIGKILLed in the middle. Every run ends exactly once (completed,
 * or failed `node-lost`), none is lost, none is executed twice (turns counted at the fake peers),
 * each session's runs run in the order they came, and the dead node's sessionless runs are finished
 * by the others.
 */
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startThrowawayPostgres, type ThrowawayPostgres } from "../scripts/postgres.ts"
import type { RunRecord } from "../src/domain/run.ts"
import type { SessionRecord } from "../src/domain/session.ts"
import { type ClusterNodeProcess, startClusterNode } from "./support/clusterNodes.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const RUNS = 1_000
const LEASE_MS = 6_000
const SESSIONS_PER_NODE = 6

let postgres: ThrowawayPostgres
const temp = makeTempDir("codexd-cluster-")
beforeAll(async () => {
  postgres = await startThrowawayPostgres()
})
afterAll(() => {
  postgres?.stop()
  if (process.env.KEEP_CLUSTER_TEMP === undefined) temp.cleanup()
})

const waitUntil = async <A>(
  read: () => Promise<A>,
  done: (a: A) => boolean,
  timeoutMs: number,
  what: string,
) => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe("a cluster of three nodes on PostgreSQL", () => {
  it("ends every run exactly once when a node is SIGKILLed in the middle", { timeout: 240_000 }, async () => {
    const db = new pg.Client({ connectionString: postgres.url })
    await db.connect()
    const nodes: Array<ClusterNodeProcess> = ["node-a", "node-b", "node-c"].map((nodeId) =>
      startClusterNode(temp.path, { nodeId, url: postgres.url, leaseMs: LEASE_MS, maxRuns: 6 }),
    )
    const [a, b, c] = nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess]
    try {
      for (const node of nodes) await node.waitForLine("ready")
      // Sessions whose threads start on each node: their runs must run there.
      const sessionOwner = new Map<string, ClusterNodeProcess>()
      for (const node of nodes)
        for (let i = 0; i < SESSIONS_PER_NODE; i++) {
          const tag = `${node.nodeId}-s${i}`
          node.send({ session: tag })
          const id = (await node.waitForLine(`session ${tag} `)).split(" ")[2] as string
          sessionOwner.set(id, node)
        }
      const sessionIds = [...sessionOwner.keys()]

      // Submitted round robin through the three nodes; two in five to a session (any node's).
      const submittedVia = new Map<number, ClusterNodeProcess>()
      const inSession = new Map<number, string>()
      for (let i = 0; i < RUNS; i++) {
        const via = nodes[i % 3] as ClusterNodeProcess
        const sessionId = i % 5 < 2 ? sessionIds[(i * 7) % sessionIds.length] : undefined
        if (sessionId !== undefined) inSession.set(i, sessionId)
        submittedVia.set(i, via)
        via.send({
          submit: String(i),
          prompt: `slow 300 #${i}#`,
          ...(sessionId === undefined ? {} : { sessionId }),
        })
      }
      const runIdOf = new Map<number, string>()
      for (let i = 0; i < RUNS; i++) {
        const line = await (submittedVia.get(i) as ClusterNodeProcess).waitForLine(`ack ${i} `)
        runIdOf.set(i, line.split(" ")[2] as string)
      }
      const tagOfRun = new Map([...runIdOf].map(([i, id]) => [id, i]))
      const t0 = Date.now()

      const unfinished = async () =>
        Number(
          (await db.query("SELECT count(*) AS n FROM codexd_runs WHERE status IN ('queued','running')"))
            .rows[0].n,
        )
      // In the middle: a good part done, a good part still to do.
      await waitUntil(unfinished, (n) => n <= RUNS - 200, 120_000, "200 runs to finish")
      const sessionlessOfC = (
        await db.query("SELECT run_id, status FROM codexd_runs WHERE status IN ('queued','running')")
      ).rows
        .map((r) => ({ tag: tagOfRun.get(r.run_id) as number, status: r.status as string }))
        .filter(({ tag }) => submittedVia.get(tag) === c && !inSession.has(tag))
      await c.kill("SIGKILL")
      const leftAtKill = await unfinished()
      expect(leftAtKill).toBeGreaterThan(100)
      const t1 = Date.now()

      await waitUntil(unfinished, (n) => n === 0, 120_000, "every run to end").catch(async (error) => {
        const stuck = await db.query(
          "SELECT r.record, q.claimed_by, s.owner_node, s.active_run FROM codexd_runs r LEFT JOIN codexd_queue q ON q.run_id = r.run_id LEFT JOIN codexd_sessions s ON s.session_id = r.session_id WHERE r.status IN ('queued','running')",
        )
        throw new Error(`${error}\n${JSON.stringify(stuck.rows, null, 1).slice(0, 6000)}`)
      })
      console.log(
        `acked ${RUNS} runs, killed after ${t1 - t0} ms with ${leftAtKill} left, all ended ${Date.now() - t1} ms later`,
      )
      const runs = (await db.query("SELECT record FROM codexd_runs")).rows.map((r) => r.record as RunRecord)
      const sessions = new Map(
        (await db.query("SELECT record FROM codexd_sessions")).rows.map((r) => {
          const s = r.record as SessionRecord
          return [s.sessionId, s] as const
        }),
      )

      // None lost: every acknowledged run is there, and there is nothing else.
      expect(runs.length).toBe(RUNS)
      expect(new Set(runs.map((r) => r.runId))).toEqual(new Set(runIdOf.values()))
      // Each ended once, one of two ways.
      const endings = runs.map((r) => `${r.status}:${r.errorCode ?? ""}`)
      expect(new Set(endings)).toEqual(new Set(["completed:", "failed:node-lost"]))

      // Turns as the fake peers saw them: none started twice; a completed run had exactly one.
      const turnsAt = new Map<number, Array<ClusterNodeProcess>>()
      const threadOfTurn = new Map<number, string>()
      for (const node of nodes)
        for (const turn of node.turns()) {
          const tag = Number(/#(\d+)#/.exec(turn.prompt)?.[1])
          turnsAt.set(tag, [...(turnsAt.get(tag) ?? []), node])
          threadOfTurn.set(tag, turn.threadId)
        }
      const twice = [...turnsAt].filter(([, at]) => at.length > 1).map(([tag]) => tag)
      expect(twice).toEqual([])
      for (const run of runs) {
        const tag = tagOfRun.get(run.runId) as number
        const at = turnsAt.get(tag) ?? []
        if (run.status === "completed") expect(at.length).toBe(1)
        // Lost with the node: it ran there (and only there) or never ran.
        else expect(at.every((node) => node === c)).toBe(true)
      }

      // Affinity and order: a session's turns ran on its own node, in the order its runs came.
      for (const [sessionId, owner] of sessionOwner) {
        const mine = runs
          .filter((r) => r.sessionId === sessionId)
          .sort((x, y) => (tagOfRun.get(x.runId) as number) - (tagOfRun.get(y.runId) as number))
        const thread = sessions.get(sessionId as never)?.threadId
        const ranInOrder = owner
          .turns()
          .filter((t) => t.threadId === thread)
          .map((t) => Number(/#(\d+)#/.exec(t.prompt)?.[1]))
        const submittedOrder = mine.map((r) => tagOfRun.get(r.runId) as number)
        // Runs of one session submitted through different nodes came in submission order per node
        // only; what ran is ordered by arrival, which the queue's sequence records.
        const arrived = (
          await db.query("SELECT run_id FROM codexd_runs WHERE session_id = $1 ORDER BY created_seq", [
            sessionId,
          ])
        ).rows.map((r) => tagOfRun.get(r.run_id) as number)
        expect(new Set(arrived)).toEqual(new Set(submittedOrder))
        expect(ranInOrder).toEqual(arrived.filter((tag) => ranInOrder.includes(tag)))
        for (const run of mine) {
          const at = turnsAt.get(tagOfRun.get(run.runId) as number) ?? []
          expect(at.every((node) => node === owner)).toBe(true)
        }
        // One at a time: each run of the session started after the one before it finished.
        const started = mine
          .filter((r) => r.startedAt !== null && r.finishedAt !== null)
          .sort((x, y) => (x.startedAt as string).localeCompare(y.startedAt as string))
        for (let k = 1; k < started.length; k++)
          expect((started[k]?.startedAt as string) >= (started[k - 1]?.finishedAt as string)).toBe(true)
        if (owner !== c) expect(mine.every((r) => r.status === "completed")).toBe(true)
      }

      // The dead node's sessionless runs that had not run yet were finished by the others.
      const finishedByOthers = sessionlessOfC.filter(({ tag }) => {
        const at = turnsAt.get(tag) ?? []
        return at.length === 1 && at[0] !== c
      })
      expect(finishedByOthers.length).toBeGreaterThan(0)
      for (const { tag } of sessionlessOfC) {
        const run = runs.find((r) => r.runId === runIdOf.get(tag)) as RunRecord
        if (run.status !== "completed")
          expect((turnsAt.get(tag) ?? []).every((node) => node === c)).toBe(true)
      }
      // Runs that were not on the dead node all completed.
      const lost = runs.filter((r) => r.status === "failed")
      for (const run of lost) {
        const sessionNode = sessionOwner.get(run.sessionId as string)
        const at = turnsAt.get(tagOfRun.get(run.runId) as number) ?? []
        // Lost: a run of the dead node's sessions, or a sessionless one it held (started there, or its
        // worker thread started there): never one of another node's sessions, never run elsewhere.
        expect(sessionNode === c || sessionNode === undefined).toBe(true)
        expect(at.every((node) => node === c)).toBe(true)
      }
      const nodeStates = (await db.query("SELECT node_id, state FROM codexd_nodes ORDER BY node_id")).rows
      expect(nodeStates).toEqual([
        { node_id: "node-a", state: "up" },
        { node_id: "node-b", state: "up" },
        { node_id: "node-c", state: "lost" },
      ])
    } finally {
      await db.end()
      await Promise.all([a.kill("SIGTERM"), b.kill("SIGTERM"), c.kill("SIGKILL")])
      for (const node of nodes) node.reapChildren()
    }
  })
})
