/**
 * The codex child SIGKILLed at random moments while runs stream in: while turns start, right after a
 * restart, during the handshake. Every acknowledged run must end `completed` or `failed` within a
 * bound, none may stay `running`, and a record's times must be in order. The kills are paced so the
 * crash-loop budget sometimes trips; then the child is restarted by hand, as an operator would.
 * The moments come from a seeded generator: a failure names its seed, so it can be replayed.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import type { RunRecord } from "../src/domain/run.ts"
import { fakeDaemonConfig, withDaemonServices } from "./support/daemonHarness.ts"
import { childStateOf } from "./support/supervisorHarness.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temps: Array<() => void> = []
afterEach(() => {
  for (const cleanup of temps.splice(0)) cleanup()
})

/** mulberry32: small, seedable, good enough to pick moments. */
const seeded = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("runs while the child is killed at random moments", () => {
  const seed = Number(process.env.CODEXD_FAULT_SEED ?? Date.now() % 2 ** 31)

  it(`ends every acknowledged run, none stuck running (seed ${seed})`, async () => {
    const random = seeded(seed)
    const temp = makeTempDir("codexd-kill-")
    temps.push(temp.cleanup)
    writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
    const config = fakeDaemonConfig(temp.path, { maxConcurrentRuns: "4" })

    await withDaemonServices(config, async (d) => {
      const sessions = await Promise.all([0, 1, 2].map(() => d.run(d.sessions.create({ purpose: "worker" }))))
      const acknowledged: Array<RunRecord> = []
      let submitting = true
      const submitter = (async () => {
        for (let i = 0; i < 60; i++) {
          const session = i % 4 === 3 ? null : sessions[i % 3]
          const prompt = random() < 0.3 ? `slow ${Math.floor(random() * 300)}` : `run ${i}`
          acknowledged.push(await d.run(d.runs.submit({ prompt, sessionId: session?.sessionId ?? null })))
          await sleep(random() * 60)
        }
        submitting = false
      })()

      let kills = 0
      let manualRestarts = 0
      const moments: Array<string> = []
      while (submitting || kills < 12) {
        const child = childStateOf(d.supervisor)
        if (child.status === "failed") {
          // The budget tripped: restart by hand, and sometimes kill the new child at once.
          await d.run(d.supervisor.restart)
          manualRestarts++
          if (random() < 0.5) await sleep(random() * 30)
          continue
        }
        // Now in any state: starting (during the handshake), just restarted, or running turns.
        const wait = random() < 0.3 ? random() * 20 : random() * 400
        await sleep(wait)
        const pid = childStateOf(d.supervisor).pid
        if (pid !== null) {
          try {
            process.kill(pid, "SIGKILL")
            kills++
            moments.push(`${childStateOf(d.supervisor).machineState}+${Math.round(wait)}ms`)
          } catch {
            // It was already gone.
          }
        }
      }
      await submitter
      // The faults are over: the child must come back (by hand if the budget tripped) and every run end.
      if (childStateOf(d.supervisor).status === "failed") await d.run(d.supervisor.restart)
      const context = `seed ${seed}; ${kills} kills (${moments.join(", ")}); ${manualRestarts} manual restarts`
      const until = Date.now() + 60_000
      let records: Array<RunRecord> = []
      for (;;) {
        records = await Promise.all(acknowledged.map((r) => d.run(d.runs.get(r.runId))))
        if (records.every((r) => r.status === "completed" || r.status === "failed")) break
        if (childStateOf(d.supervisor).status === "failed") await d.run(d.supervisor.restart)
        if (Date.now() > until) {
          const open = records.filter((r) => r.status !== "completed" && r.status !== "failed")
          const byStatus = open
            .map((r) => `${r.status}${r.errorCode === null ? "" : `/${r.errorCode}`}`)
            .join(",")
          const running = open.filter((r) => r.status === "running")
          const trail = (runId: string) =>
            d.events
              .filter((e) => e.detail?.runId === runId)
              .map((e) => `${e.type}:${String(e.detail?.state ?? "")}`)
              .join(" > ")
          throw new Error(
            `${open.length} runs never ended [${byStatus}] (${context}; child ${JSON.stringify(childStateOf(d.supervisor))}): ${open
              .slice(0, 6)
              .map((r) => `${r.runId}: ${trail(r.runId)}`)
              .join("; ")} ${JSON.stringify(running.slice(0, 2))}`,
          )
        }
        await sleep(50)
      }
      expect(kills, context).toBeGreaterThanOrEqual(12)
      for (const run of records) {
        // A failure says why; a success has none; times are in order.
        if (run.status === "failed") expect(run.errorCode, `${run.runId} (${context})`).not.toBeNull()
        else expect(run.errorCode, `${run.runId} (${context})`).toBeNull()
        expect(run.finishedAt, context).not.toBeNull()
        if (run.startedAt !== null)
          expect(Date.parse(run.finishedAt ?? ""), `${run.runId} (${context})`).toBeGreaterThanOrEqual(
            Date.parse(run.startedAt),
          )
      }
      // The kills were survivable: most runs went through (the rest failed child-exited).
      const failedOther = records.filter((r) => r.status === "failed" && r.errorCode !== "child-exited")
      expect(
        failedOther.map((r) => r.errorCode),
        context,
      ).toEqual(
        failedOther.map(() => expect.stringMatching(/child-exited|rejected-at-start|daemon-restarted/)),
      )
    })
  }, 180_000)
})
