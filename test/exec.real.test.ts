/**
 * Exec mode through the daemon's services with the pinned `codex exec`, offline against the loopback
 * model mock: a run's final message and usage, a failing model, an interrupt that ends the process,
 * and a session whose second run resumes its exec thread.
 */
import { readdirSync, readFileSync } from "node:fs"
import { beforeAll, describe, expect, it } from "vitest"
import type { SettingKey } from "../src/config.ts"
import type { RunRecord } from "../src/domain/run.ts"
import { runCodexd } from "./support/cli.ts"
import { withDaemonServices } from "./support/daemonHarness.ts"
import { startDaemonProcess } from "./support/daemonProcess.ts"
import type { MockResponsesApi } from "./support/mockResponsesApi.ts"
import { useModelInEnv } from "./support/modelInEnv.ts"
import { childStateOf, waitUntil } from "./support/supervisorHarness.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const model = useModelInEnv()
let mock: MockResponsesApi
beforeAll(() => {
  mock = model.mock()
})

const execDaemon = (flags: Partial<Record<SettingKey, string>> = {}) =>
  model.realConfig("codexd-exec-mode-", { mode: "exec", ...flags })

const result = (run: RunRecord) => run.result as Record<string, unknown>

/** Live processes whose command line holds `marker`. */
const processesWith = (marker: string): Array<number> =>
  readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)
      } catch {
        return false
      }
    })
    .map(Number)

describe("exec mode with the real codex exec", () => {
  it("refuses, naming it, an option codex exec does not take", async () => {
    await withDaemonServices(execDaemon(), async (d) => {
      const refused = (effect: Parameters<typeof d.run>[0]) => d.run(effect).catch((error: unknown) => error)
      expect(
        await refused(d.runs.submit({ prompt: "x", options: { approvalPolicy: "never" } })),
      ).toMatchObject({
        _tag: "InvalidOptionError",
        option: "approvalPolicy",
        reason: "codex exec does not take it (exec mode)",
      })
      expect(
        await refused(
          d.runs.submit({ prompt: "x", options: { images: [{ url: "https://example.com/a.png" }] } }),
        ),
      ).toMatchObject({ option: "images[0].url" })
      expect(
        await refused(d.sessions.create({ purpose: "duplex", developerInstructions: "be brief" })),
      ).toMatchObject({ _tag: "InvalidOptionError", option: "developerInstructions" })
      // Nothing was recorded for a refused run.
      expect(await d.run(d.runs.list)).toEqual([])
    })
  })

  it("has no long-lived child: the state says exec mode and the binary's version", async () => {
    await withDaemonServices(execDaemon(), async (d) => {
      const child = childStateOf(d.supervisor)
      expect(child).toMatchObject({ mode: "exec", status: "idle", machineState: "exec", pid: null })
      expect(child.userAgent).toMatch(/^codex-cli 0\.169\.0/)
      expect(child.args).toEqual(["exec", "--json"])
    })
  })

  it("completes a run with its final message and usage, and resumes the session's thread", async () => {
    const config = execDaemon()
    await withDaemonServices(config, async (d) => {
      const session = await d.run(d.sessions.create({ purpose: "duplex", sandbox: "read-only" }))
      expect(session.threadId).toBeNull()
      mock.enqueue({ kind: "text", deltas: ["exec ", "answer"] })
      const first = await d.finished(
        (await d.run(d.runs.submit({ prompt: "one", sessionId: session.sessionId }))).runId,
      )
      expect(first).toMatchObject({ status: "completed", error: null })
      expect(result(first).finalMessage).toBe("exec answer")
      // The same shape as app-server mode's usage.
      expect(result(first).tokenUsage).toMatchObject({
        total: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
        last: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      })
      expect(first.threadId).not.toBeNull()
      expect((await d.run(d.sessions.get(session.sessionId))).threadId).toBe(first.threadId)
      expect(
        d.events.some((e) => e.type === "run.message.completed" && e.detail?.runId === first.runId),
      ).toBe(true)

      mock.enqueue({ kind: "text", deltas: ["second"] })
      const second = await d.finished(
        (await d.run(d.runs.submit({ prompt: "two", sessionId: session.sessionId }))).runId,
      )
      expect(second.status).toBe("completed")
      expect(second.threadId).toBe(first.threadId)
      expect(
        d.events.some((e) => e.type === "session.thread.resumed" && e.detail?.threadId === first.threadId),
      ).toBe(true)
      // The model saw the first turn: the thread was resumed, not started again.
      expect(JSON.stringify(mock.requests.at(-1))).toContain("exec answer")
      // Its lines and its stderr went to the child logs.
      expect(readFileSync(config.paths.stdoutLogPath, "utf8")).toContain('"type":"turn.completed"')
    })
  }, 60_000)

  it("fails a run whose model refuses, with codex's error", async () => {
    await withDaemonServices(execDaemon(), async (d) => {
      mock.enqueue({
        kind: "httpError",
        status: 401,
        body: JSON.stringify({ error: { message: "bad key for exec", type: "invalid_request_error" } }),
      })
      const run = await d.finished((await d.run(d.runs.submit({ prompt: "refused" }))).runId)
      expect(run.status).toBe("failed")
      expect(run.errorCode).toBe("turn-failed")
      expect(run.error).toMatch(/401|bad key for exec|unauthorized/i)
    })
  }, 60_000)

  it("interrupts a run by ending its codex exec process", async () => {
    await withDaemonServices(execDaemon(), async (d) => {
      const marker = `interrupt-me-${process.pid}-${Date.now()}`
      mock.enqueue({ kind: "hang", firstDelta: "thinking" })
      const submitted = await d.run(d.runs.submit({ prompt: marker }))
      // Exec streams no deltas: the turn is under way once the model was asked.
      await waitUntil(() => JSON.stringify(mock.requests).includes(marker), 20_000, "the model asked")
      expect(processesWith(marker)).toHaveLength(1)
      await d.run(d.runs.interrupt(submitted.runId))
      const run = await d.finished(submitted.runId)
      expect(run).toMatchObject({ status: "failed", errorCode: "interrupted" })
      await waitUntil(() => processesWith(marker).length === 0, 10_000, "the exec process to end")
    })
  }, 60_000)

  it("codexd run prints exec mode's final message on stdout (exec streams no deltas)", async () => {
    const dir = makeTempDir("codexd-exec-run-")
    try {
      const daemon = startDaemonProcess([], { CODEXD_SERVER_MODE: "exec" }, dir.path)
      try {
        await daemon.waitForOutput(/codexd ready/, 60_000)
        mock.enqueue({ kind: "text", deltas: ["the answer from exec"] })
        const run = await runCodexd(["run", "say it"], { cwd: dir.path })
        expect(run.exitCode).toBe(0)
        expect(run.stdout).toContain("the answer from exec")
      } finally {
        await daemon.stop()
      }
    } finally {
      dir.cleanup()
    }
  }, 120_000)
})
