/**
 * Memory over many runs: the daemon's services over the fake app-server, RSS and heap after a warm-up
 * of 100 runs (the baseline) and after `CODEXD_SOAK_RUNS` more (default 1,000), with a few oversized
 * lines from the child on the way. Flat means the ratio stays near 1. Not in the default `npm run
 * bench` (it takes a minute or more); run it with `npm run bench -- soak`.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { fakeDaemonConfig, withDaemonServices } from "../test/support/daemonHarness.ts"
import { report, tempDir } from "./harness.ts"

const WARM_UP = 100

const settle = async () => {
  // With --expose-gc the figures are after a full collection; without it, a moment to settle.
  ;(globalThis as { gc?: () => void }).gc?.()
  await new Promise((r) => setTimeout(r, 200))
}

export const soakBench = async (): Promise<void> => {
  const runs = Number(process.env.CODEXD_SOAK_RUNS ?? 1_000)
  const dir = tempDir("codexd-bench-soak-")
  try {
    writeFileSync(join(dir.path, "script.json"), JSON.stringify({ simulate: true }))
    const figures = await withDaemonServices(
      fakeDaemonConfig(dir.path),
      async (d) => {
        const session = await d.run(d.sessions.create({ purpose: "worker" }))
        const batch = async (count: number, from: number) => {
          for (let i = 0; i < count; i += 50) {
            await Promise.all(
              Array.from({ length: Math.min(50, count - i) }, (_, j) =>
                d.run(
                  d.runs.submit({
                    // Every 100th run streams 20,000 deltas: a long answer must not stay in memory.
                    prompt: (from + i + j) % 100 === 0 ? "deltas 20000" : `run ${from + i + j}`,
                    sessionId: session.sessionId,
                  }),
                ),
              ),
            )
            await d.run(d.runs.idle)
          }
        }
        await batch(WARM_UP, 0)
        await settle()
        const before = process.memoryUsage()
        await batch(runs, WARM_UP)
        await settle()
        const after = process.memoryUsage()
        return { before, after }
      },
      undefined,
      false,
    )
    const mb = (bytes: number) => bytes / 1024 / 1024
    report(
      `Soak: RSS after ${runs.toLocaleString("en")} more runs (fake app-server), against after ${WARM_UP}`,
      { label: `RSS after ${WARM_UP + runs} runs`, value: mb(figures.after.rss), unit: "MB" },
      { label: `RSS after ${WARM_UP} runs`, value: mb(figures.before.rss), unit: "MB" },
    )
    process.stdout.write(
      `  (after ${WARM_UP}: ${JSON.stringify(figures.before)}; after ${WARM_UP + runs}: ${JSON.stringify(figures.after)})\n`,
    )
    report(
      "Soak: heap in use, same moments",
      { label: `heap after ${WARM_UP + runs} runs`, value: mb(figures.after.heapUsed), unit: "MB" },
      { label: `heap after ${WARM_UP} runs`, value: mb(figures.before.heapUsed), unit: "MB" },
    )
  } finally {
    dir.cleanup()
  }
}
