/** The CLI's client commands as real processes against a real daemon supervising the fake peer. */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCodexd } from "./support/cli.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { makeTempDir } from "./support/tempConfig.ts"

let daemon: DaemonProcess
const temp = makeTempDir("codexd-cli-client-")
const env = {
  CODEXD_CHILD_COMMAND: process.execPath,
  CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", temp.path]),
  CODEXD_APPROVALS: "ask",
}
const codexd = (...args: Array<string>) => runCodexd(args, { cwd: temp.path, env })

beforeAll(async () => {
  writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
  daemon = startDaemonProcess([], env, temp.path)
  await daemon.waitForOutput(/codexd ready: .* api http/)
}, 60_000)

afterAll(async () => {
  await daemon?.stop()
  temp.cleanup()
})

const waitForStatus = async (runId: string, status: string) => {
  const until = Date.now() + 20_000
  for (;;) {
    const shown = await codexd("runs", runId, "--json")
    if (JSON.parse(shown.stdout).status === status) return
    if (Date.now() > until) throw new Error(`run ${runId} never became ${status}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe("codexd client commands", () => {
  it("run streams the agent's text and exits 0; a failed run exits 1; --json prints the record", async () => {
    const ok = await codexd("run", "hello", "world")
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toBe("echo: hello world")
    expect(ok.stderr).toMatch(/completed: echo: hello world/)
    const failed = await codexd("run", "fail", "--json")
    expect(failed.exitCode).toBe(1)
    const record = JSON.parse(failed.stdout)
    expect(record).toMatchObject({ status: "failed", errorCode: "turn-failed" })
  })

  it("run passes turn options: an output schema from a file, images resolved from here, model and sandbox", async () => {
    writeFileSync(join(temp.path, "schema.json"), JSON.stringify({ type: "object" }))
    writeFileSync(join(temp.path, "pixel.png"), "not really a png")
    const queued = await codexd(
      "run",
      "look",
      "--output-schema",
      "schema.json",
      "--image",
      "pixel.png",
      "--image",
      join(temp.path, "pixel.png"),
      "--model",
      "m-1",
      "--effort",
      "low",
      "--sandbox",
      "read-only",
      "--max-tokens",
      "5000",
      "--no-follow",
      "--json",
    )
    expect(queued.exitCode).toBe(0)
    expect(JSON.parse(queued.stdout).options).toEqual({
      model: "m-1",
      reasoningEffort: "low",
      sandbox: "read-only",
      outputSchema: { type: "object" },
      images: [{ path: join(temp.path, "pixel.png") }, { path: join(temp.path, "pixel.png") }],
      maxTokens: 5000,
    })
    // The fake peer echoes the prompt, which is not JSON: the schema was applied.
    const judged = await codexd("run", "plain words", "--output-schema", "schema.json")
    expect(judged.exitCode).toBe(1)
    expect(judged.stderr).toMatch(/failed \(output-invalid\): the final message is not JSON/)

    const noFile = await codexd("run", "x", "--output-schema", "missing.json")
    expect(noFile).toMatchObject({ exitCode: 2, stderr: "codexd run: --output-schema missing.json: ENOENT" })
    const noImage = await codexd("run", "x", "--image", "gone.png")
    expect(noImage.exitCode).toBe(2)
    expect(noImage.stderr).toBe("codexd run: images[0].path: no such file")
    const badBudget = await codexd("run", "x", "--max-tokens", "lots")
    expect(badBudget).toMatchObject({
      exitCode: 2,
      stderr: "codexd run: --max-tokens lots: a positive whole number of tokens",
    })
    const badSandbox = await codexd("run", "x", "--sandbox", "everything")
    expect(badSandbox.exitCode).toBe(2)
    expect(badSandbox.stderr).toMatch(/^codexd run: body: sandbox: [^\n]*$/)
  })

  it("lists and shows sessions and runs, and prints events", async () => {
    const queued = await codexd("run", "listed", "--no-follow")
    expect(queued.exitCode).toBe(0)
    const runId = queued.stdout.trim()
    await waitForStatus(runId, "completed")
    const runs = await codexd("runs")
    expect(runs.stdout).toMatch(/^RUN\s+STATUS\s+CREATED\s+SUMMARY/)
    expect(runs.stdout).toContain(runId)
    const one = await codexd("runs", runId)
    expect(one.stdout).toMatch(/summary\s+completed: echo: listed/)
    const sessions = JSON.parse((await codexd("sessions", "--json")).stdout)
    expect(sessions.sessions.length).toBeGreaterThan(0)
    const events = await codexd("events", "--since", "0", "--json")
    const list = JSON.parse(events.stdout) as Array<{ type: string; detail: { runId?: string } }>
    expect(list.some((e) => e.type === "run.completed" && e.detail.runId === runId)).toBe(true)
    expect((await codexd("runs", "run_nope")).exitCode).toBe(2)
  })

  it("steers and interrupts runs, and answers approvals", async () => {
    const hang = (await codexd("run", "hang", "--no-follow")).stdout.trim()
    await waitForStatus(hang, "running")
    await new Promise((r) => setTimeout(r, 100))
    expect((await codexd("steer", hang, "finish", "up")).exitCode).toBe(0)
    await waitForStatus(hang, "completed")

    const stuck = (await codexd("run", "hang", "--no-follow")).stdout.trim()
    await waitForStatus(stuck, "running")
    await new Promise((r) => setTimeout(r, 100))
    expect((await codexd("interrupt", stuck)).exitCode).toBe(0)
    await waitForStatus(stuck, "failed")

    const asking = (await codexd("run", "approve", "make", "--no-follow")).stdout.trim()
    let approvalId: string | undefined
    const until = Date.now() + 10_000
    while (approvalId === undefined) {
      const listed = JSON.parse((await codexd("approvals", "--json")).stdout).approvals as Array<
        Record<string, string>
      >
      approvalId = listed.find((a) => a.runId === asking && a.status === "pending")?.approvalId
      if (Date.now() > until) throw new Error("no pending approval")
    }
    expect((await codexd("approvals")).stdout).toContain(approvalId)
    expect((await codexd("approve", approvalId)).exitCode).toBe(2)
    const approved = await codexd("approve", approvalId, "--decision", "accept")
    expect(approved.exitCode).toBe(0)
    expect(approved.stdout).toMatch(/answered \(accept\)/)
    await waitForStatus(asking, "completed")
  })

  it("smoke checks the running daemon, prints each check as it finishes, and leaves the daemon running", async () => {
    const smoke = await codexd("smoke")
    expect(smoke.exitCode).toBe(0)
    const lines = smoke.stdout.trim().split("\n")
    expect(lines.map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "ok config",
      "ok state-dir",
      "ok child",
      "ok initialize",
      "ok session",
      "ok turn",
      "ok event-stream",
      "ok state-files",
      "smoke ok:",
    ])
    expect(smoke.stdout).toMatch(new RegExp(`child .* under the running daemon \\(pid ${daemon.pid}\\)`))
    expect(smoke.stdout).toMatch(/initialize\s+answered by fake-app-server\/0\.0\.0/)
    expect(daemon.exitCode()).toBeUndefined()
    const sessions = JSON.parse((await codexd("sessions", "--json")).stdout).sessions
    expect(
      sessions
        .filter((s: { purpose: string }) => s.purpose === "smoke")
        .map((s: { status: string }) => s.status),
    ).toEqual(["closed"])
  })

  it("says no daemon runs, with exit 3", async () => {
    const empty = makeTempDir("codexd-cli-none-")
    try {
      const result = await runCodexd(["runs"], { cwd: empty.path })
      expect(result.exitCode).toBe(3)
      expect(result.stderr).toMatch(/no daemon is running/)
      expect((await runCodexd(["run", "hi"], { cwd: empty.path })).exitCode).toBe(3)
    } finally {
      empty.cleanup()
    }
  })

  // Last: it replaces the child the other tests use.
  it("restart stops a running child gracefully and starts a new one, on which runs go on", async () => {
    const child = async () => JSON.parse((await codexd("status", "--json")).stdout).daemon.child
    const before = await child()
    expect(before.machineState).toBe("alive.running")
    const restarted = await codexd("restart")
    expect(restarted.exitCode).toBe(0)
    expect(restarted.stdout).toContain("restarting the app-server (it was alive.running)")
    const until = Date.now() + 20_000
    let after = await child()
    while (!(after.machineState === "alive.running" && after.pid !== before.pid)) {
      if (Date.now() > until) throw new Error(`no new child: ${JSON.stringify(after)}`)
      await new Promise((r) => setTimeout(r, 50))
      after = await child()
    }
    expect(after.restartCount).toBe(0)
    const ok = await codexd("run", "after", "restart")
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toBe("echo: after restart")
    const json = JSON.parse((await codexd("restart", "--json")).stdout)
    expect(json).toMatchObject({ restarting: true, from: "alive.running" })
  })
})
