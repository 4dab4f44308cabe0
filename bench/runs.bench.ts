/**
 * Runs through codexd (durable submit, scheduler, runMachine, records, events) beside the same turns
 * driven directly with the AppServerClient, in the same run:
 * - against the fake app-server in codex-like mode, which completes each turn at once: 1,000 runs
 *   over 4 sessions, in runs per second;
 * - against the real codex with the loopback model mock: 20 turns one after another, per-turn time.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { textInput } from "../src/domain/appServer/protocol.ts"
import type { RunRecord } from "../src/domain/run.ts"
import type { AppServerClient } from "../src/services/appServer/AppServerClient.ts"
import { spawnAppServer } from "../src/services/transport/appServerProcess.ts"
import { makeCodexHome } from "../test/support/codexHome.ts"
import { type DaemonServices, fakeDaemonConfig, withDaemonServices } from "../test/support/daemonHarness.ts"
import { clientInfo, fakeAppServerPath, scopedClient } from "../test/support/fakePeer.ts"
import { startMockResponsesApi } from "../test/support/mockResponsesApi.ts"
import { codexBinary } from "../test/support/realCodex.ts"
import { configFor } from "../test/support/tempConfig.ts"
import { median, report, tempDir } from "./harness.ts"

const RUNS = 1_000
const SESSIONS = 4
const REAL_TURNS = 20

/** One turn on a thread, directly: turn/start, then wait for its turn/completed. */
const directTurn = (client: AppServerClient, threadId: string, prompt: string): Promise<void> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        // Subscribed before the turn starts, so its turn/completed cannot slip by.
        const events = yield* client.subscribe
        const started = yield* client.turnStart({ threadId, input: [textInput(prompt)] })
        yield* Stream.runHead(
          Stream.filter(
            events,
            (event) => event.type === "turn.completed" && event.turn.id === started.turn.id,
          ),
        )
      }),
    ),
  )

const directClient = async (command: string, args: Array<string>, env: Record<string, string> = {}) => {
  const proc = spawnAppServer({ command, args, cwd: process.cwd(), env: { ...process.env, ...env } })
  const { client, release } = scopedClient(proc.transport, { clientInfo, experimentalApi: true })
  await Effect.runPromise(client.initialize)
  return {
    client,
    stop: async () => {
      await proc.stop(1_000)
      await release()
    },
  }
}

const fakeRunsPerSecond = async (): Promise<number> => {
  const dir = tempDir("codexd-bench-runs-")
  try {
    writeFileSync(join(dir.path, "script.json"), JSON.stringify({ simulate: true }))
    return await withDaemonServices(fakeDaemonConfig(dir.path), async (d: DaemonServices) => {
      const sessions = await Promise.all(
        Array.from({ length: SESSIONS }, () => d.run(d.sessions.create({ purpose: "worker" }))),
      )
      const start = performance.now()
      // Submitted as independent clients would: each waits for its own durable acknowledgement.
      const submitted: Array<RunRecord> = await Promise.all(
        Array.from({ length: RUNS }, (_, i) => {
          const session = sessions[i % SESSIONS] as (typeof sessions)[number]
          return d.run(d.runs.submit({ prompt: `run ${i}`, sessionId: session.sessionId }))
        }),
      )
      await d.run(d.runs.idle)
      const elapsed = performance.now() - start
      const done = await Promise.all(submitted.map((r) => d.run(d.runs.get(r.runId))))
      if (done.some((r) => r.status !== "completed")) throw new Error("a bench run did not complete")
      return RUNS / (elapsed / 1000)
    })
  } finally {
    dir.cleanup()
  }
}

const fakeDirectPerSecond = async (): Promise<number> => {
  const { client, stop } = await directClient(process.execPath, [fakeAppServerPath], {
    FAKE_APP_SERVER_SCRIPT: JSON.stringify({ simulate: true }),
  })
  try {
    const threads = await Promise.all(
      Array.from({ length: SESSIONS }, () => Effect.runPromise(client.threadStart({}))),
    )
    const start = performance.now()
    await Promise.all(
      threads.map(async (thread, s) => {
        for (let i = s; i < RUNS; i += SESSIONS) await directTurn(client, thread.thread.id, `run ${i}`)
      }),
    )
    return RUNS / ((performance.now() - start) / 1000)
  } finally {
    await stop()
  }
}

const realTurnMs = async (): Promise<{ viaCodexd: number; direct: number }> => {
  const mock = await startMockResponsesApi()
  const home = makeCodexHome(`${mock.baseUrl}/v1`)
  const saved = { ...process.env }
  Object.assign(process.env, home.env)
  const dir = tempDir("codexd-bench-real-")
  try {
    const config = configFor(dir.path, { childCommand: codexBinary(), childArgs: '["app-server"]' })
    const viaCodexd = await withDaemonServices(config, async (d) => {
      const session = await d.run(d.sessions.create({ purpose: "worker", approvalPolicy: "never" }))
      const times: Array<number> = []
      for (let i = 0; i < REAL_TURNS; i++) {
        mock.enqueue({ kind: "text", deltas: ["ok"] })
        const start = performance.now()
        const run = await d.run(d.runs.submit({ prompt: `turn ${i}`, sessionId: session.sessionId }))
        await d.finished(run.runId)
        times.push(performance.now() - start)
      }
      return median(times)
    })
    const { client, stop } = await directClient(codexBinary(), ["app-server"])
    try {
      const thread = await Effect.runPromise(client.threadStart({ approvalPolicy: "never" }))
      const times: Array<number> = []
      for (let i = 0; i < REAL_TURNS; i++) {
        mock.enqueue({ kind: "text", deltas: ["ok"] })
        const start = performance.now()
        await directTurn(client, thread.thread.id, `turn ${i}`)
        times.push(performance.now() - start)
      }
      return { viaCodexd, direct: median(times) }
    } finally {
      await stop()
    }
  } finally {
    process.env = saved
    dir.cleanup()
    home.cleanup()
    await mock.close()
  }
}

export const runsBench = async (): Promise<void> => {
  const direct = await fakeDirectPerSecond()
  const viaCodexd = await fakeRunsPerSecond()
  report(
    `Runs: ${RUNS.toLocaleString("en")} turns over ${SESSIONS} sessions, fake peer completing each at once`,
    { label: "through codexd (durable runs)", value: viaCodexd, unit: "runs/s" },
    { label: "AppServerClient directly", value: direct, unit: "turns/s" },
  )
  const real = await realTurnMs()
  report(
    `Runs: real codex with the model mock, per-turn time (median of ${REAL_TURNS})`,
    { label: "through codexd", value: real.viaCodexd, unit: "ms" },
    { label: "AppServerClient directly", value: real.direct, unit: "ms" },
  )
}
