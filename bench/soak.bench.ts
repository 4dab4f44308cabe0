/**
 * Memory of a real daemon process (`codexd start`, as users run it) over the fake app-server, read
 * from /proc: RSS idle beside an idle `node` of the same binary; RSS after a warm-up of 1,100 runs
 * (the steady size: the registry full at its retention) and after 1,000 more, with a slope per 1,000
 * runs; then the child writes lines far past the line limit (40, 100 and 300 MB, discarded as they
 * stream) and the API gets a body far past its limit, and RSS 200 runs later is held beside the
 * steady size. Every 100th run streams
 * 20,000 deltas. `CODEXD_SOAK_RUNS` sets the 1,000; `CODEXD_SOAK_MINUTES` adds a timed soak of
 * continuous runs with RSS every 30 s. Not in the default `npm run bench` (it takes minutes): run
 * it with `npm run bench -- soak`.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { execa } from "execa"
import { apiAccess } from "../test/support/apiClient.ts"
import { fakeDaemonConfig } from "../test/support/daemonHarness.ts"
import { startDaemonProcess } from "../test/support/daemonProcess.ts"
import { fakeAppServerPath } from "../test/support/fakePeer.ts"
import { report, tempDir } from "./harness.ts"

/**
 * The steady state: the registry holds its retention (1,000 finished runs by default) and archives one
 * for each that finishes, and the heap's growth heuristics have settled. Until then RSS grows with the
 * registry, which is bounded like the file.
 */
const WARM_UP = 1_100
const BATCH = 50

const rssMb = (pid: number): number => {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  if (line === null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(line[1]) / 1024
}

const quietMoment = () => new Promise((r) => setTimeout(r, 2_000))

/** RSS of an idle `node` with the same binary: what any Node process costs. */
const idleNodeRss = async (): Promise<number> => {
  const child = execa(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { reject: false })
  await quietMoment()
  const rss = rssMb(child.pid ?? 0)
  child.kill()
  await child
  return rss
}

export const soakBench = async (): Promise<void> => {
  const runs = Number(process.env.CODEXD_SOAK_RUNS ?? 1_000)
  const minutes = Number(process.env.CODEXD_SOAK_MINUTES ?? 0)
  const dir = tempDir("codexd-bench-soak-")
  writeFileSync(`${dir.path}/script.json`, JSON.stringify({ simulate: true }))
  const daemon = startDaemonProcess(
    [],
    {
      CODEXD_CHILD_COMMAND: process.execPath,
      CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", dir.path]),
      CODEXD_APPROVALS: "auto-accept",
    },
    dir.path,
  )
  try {
    await daemon.waitForOutput(/codexd ready: .* api http:\/\/127\.0\.0\.1:\d+/, 120_000)
    const api = apiAccess(fakeDaemonConfig(dir.path))
    const session = await api.call("POST", "/v1/sessions", { body: { purpose: "worker" } })
    const sessionId = String(session.json.sessionId)
    let submitted = 0

    /** `count` runs in batches; one session runs them in order, so the last one's end ends a batch. */
    const runBatch = async (count: number, prompt: (n: number) => string = (n) => `run ${n}`) => {
      for (let i = 0; i < count; i += BATCH) {
        const ids: Array<string> = []
        for (let j = 0; j < Math.min(BATCH, count - i); j++) {
          submitted += 1
          const n = submitted
          const text = n % 100 === 0 ? "deltas 20000" : prompt(n)
          const run = await api.call("POST", "/v1/runs", { body: { prompt: text, sessionId } })
          if (run.status !== 202 && run.status !== 201) throw new Error(`submit: ${JSON.stringify(run)}`)
          ids.push(String(run.json.runId))
        }
        for (;;) {
          const last = await api.call("GET", `/v1/runs/${ids[ids.length - 1]}`)
          const status = String(
            (last.json.run as { status?: string } | undefined)?.status ?? last.json.status,
          )
          if (status === "completed" || status === "failed") break
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    }

    await quietMoment()
    const idle = rssMb(daemon.pid)
    const node = await idleNodeRss()
    report(
      "Soak: daemon RSS idle (child running, no runs yet)",
      { label: "codexd idle", value: idle, unit: "MB" },
      { label: "idle node", value: node, unit: "MB" },
    )

    const warming: Array<string> = []
    for (let done = 0; done < WARM_UP; done += 200) {
      await runBatch(Math.min(200, WARM_UP - done))
      warming.push(`${done + Math.min(200, WARM_UP - done)}: ${rssMb(daemon.pid).toFixed(0)}`)
    }
    process.stdout.write(
      `  warming up (the registry filling to its retention), RSS by runs: ${warming.join(", ")}\n`,
    )
    await quietMoment()
    const steady = rssMb(daemon.pid)
    const samples: Array<string> = []
    for (let done = 0; done < runs; done += 200) {
      await runBatch(Math.min(200, runs - done))
      samples.push(`${WARM_UP + done + Math.min(200, runs - done)}: ${rssMb(daemon.pid).toFixed(0)}`)
    }
    await quietMoment()
    const after = rssMb(daemon.pid)
    report(
      `Soak: daemon RSS after ${(WARM_UP + runs).toLocaleString("en")} runs, against after ${WARM_UP}`,
      { label: `after ${WARM_UP + runs} runs`, value: after, unit: "MB" },
      { label: `after ${WARM_UP} runs`, value: steady, unit: "MB" },
    )
    process.stdout.write(
      `  slope ${(((after - steady) / runs) * 1000).toFixed(1)} MB per 1,000 runs; RSS by runs: ${samples.join(", ")}\n`,
    )

    // Input far past the limits: discarded as it streams, never held.
    await runBatch(3, (n) => `huge ${[40, 100, 300][n % 3] ?? 40}000000`)
    const body = await fetch(`${api.base}/v1/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json" },
      body: `{"prompt":"${"y".repeat(200 * 1024 * 1024)}"}`,
    })
    if (body.status !== 413) throw new Error(`an oversized body got ${body.status}`)
    await runBatch(200)
    await quietMoment()
    const afterOversized = rssMb(daemon.pid)
    report(
      "Soak: daemon RSS 200 runs after oversized input (child lines of 40/100/300 MB, a 200 MB body)",
      { label: "after oversized input", value: afterOversized, unit: "MB" },
      { label: `after ${WARM_UP + runs} runs`, value: after, unit: "MB" },
    )

    if (minutes > 0) {
      const start = Date.now()
      const timed: Array<number> = [rssMb(daemon.pid)]
      while (Date.now() - start < minutes * 60_000) {
        const until = Date.now() + 30_000
        while (Date.now() < until) await runBatch(BATCH)
        timed.push(rssMb(daemon.pid))
      }
      report(
        `Soak: daemon RSS over ${minutes} minutes of continuous runs (${submitted.toLocaleString("en")} runs in all)`,
        { label: "at the end", value: timed[timed.length - 1] ?? 0, unit: "MB" },
        { label: "at the start", value: timed[0] ?? 0, unit: "MB" },
      )
      process.stdout.write(`  RSS every 30 s: ${timed.map((v) => v.toFixed(0)).join(", ")}\n`)
    }
  } finally {
    await daemon.stop()
    dir.cleanup()
  }
}
