/**
 * Exec mode beside app-server mode: the same 20 trivial runs in one session, one after another,
 * through codexd's services against the real pinned codex and the loopback model mock, in the same
 * run. Exec mode pays for a `codex exec` process (and a thread resume) per run; app-server mode
 * reuses its long-lived child.
 */
import type { SettingKey } from "../src/config.ts"
import { makeCodexHome } from "../test/support/codexHome.ts"
import { withDaemonServices } from "../test/support/daemonHarness.ts"
import { type MockResponsesApi, startMockResponsesApi } from "../test/support/mockResponsesApi.ts"
import { codexBinary } from "../test/support/realCodex.ts"
import { configFor } from "../test/support/tempConfig.ts"
import { median, report, tempDir } from "./harness.ts"

const RUNS = 20

/** Per-run times (submit to recorded end) of RUNS runs in one session under the given mode. */
const perRunMs = async (mock: MockResponsesApi, flags: Partial<Record<SettingKey, string>>) => {
  const dir = tempDir("codexd-bench-exec-")
  try {
    const config = configFor(dir.path, { childCommand: codexBinary(), childArgs: '["app-server"]', ...flags })
    return await withDaemonServices(config, async (d) => {
      const session = await d.run(d.sessions.create({ purpose: "worker", approvalPolicy: "never" }))
      const times: Array<number> = []
      for (let i = 0; i < RUNS; i++) {
        mock.enqueue({ kind: "text", deltas: ["ok"] })
        const start = performance.now()
        const run = await d.run(d.runs.submit({ prompt: `run ${i}`, sessionId: session.sessionId }))
        const done = await d.finished(run.runId)
        if (done.status !== "completed") throw new Error(`bench run ${i} ${done.status}: ${done.error}`)
        times.push(performance.now() - start)
      }
      return times
    })
  } finally {
    dir.cleanup()
  }
}

export const execBench = async (): Promise<void> => {
  const mock = await startMockResponsesApi()
  const home = makeCodexHome(`${mock.baseUrl}/v1`)
  const saved = { ...process.env }
  Object.assign(process.env, home.env)
  try {
    const appServer = await perRunMs(mock, {})
    const exec = await perRunMs(mock, { mode: "exec" })
    const total = (times: ReadonlyArray<number>) => times.reduce((a, b) => a + b, 0)
    report(
      `Exec mode: ${RUNS} trivial runs in one session, real codex with the model mock, per-run time (median)`,
      { label: "exec mode (one codex exec per run)", value: median(exec), unit: "ms" },
      { label: "app-server mode (long-lived child)", value: median(appServer), unit: "ms" },
    )
    report(
      `Exec mode: the same ${RUNS} runs, total`,
      { label: "exec mode", value: total(exec), unit: "ms" },
      { label: "app-server mode", value: total(appServer), unit: "ms" },
    )
  } finally {
    process.env = saved
    home.cleanup()
    await mock.close()
  }
}
