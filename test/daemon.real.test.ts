/** `codexd start` as a real process supervising the real pinned codex (offline). */
import { afterEach, describe, expect, it } from "vitest"
import { isProcessAlive } from "../src/system/processes.ts"
import { apiAccess } from "./support/apiClient.ts"
import { runCodexd } from "./support/cli.ts"
import { makeCodexHome } from "./support/codexHome.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { codexPidsIn } from "./support/realCodex.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const childOf = async (dir: string, env: Record<string, string>) => {
  const status = await runCodexd(["status", "--json"], { cwd: dir, env })
  return JSON.parse(status.stdout).daemon.child as {
    status: string
    pid: number | null
    restartCount: number
    machineState: string
  }
}

const waitForChild = async (
  dir: string,
  env: Record<string, string>,
  predicate: (child: Awaited<ReturnType<typeof childOf>>) => boolean,
  timeoutMs = 30_000,
) => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const child = await childOf(dir, env)
    if (predicate(child)) return child
    if (Date.now() > until) throw new Error(`child never matched; last ${JSON.stringify(child)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe("codexd start with the real codex", () => {
  it("restarts a killed child, trips the crash-loop budget while staying up, and leaves no codex after SIGTERM", async () => {
    const dir = makeTempDir("codexd-real-daemon-")
    cleanups.push(dir.cleanup)
    const home = makeCodexHome("http://127.0.0.1:9/v1")
    cleanups.push(home.cleanup)
    const before = new Set(codexPidsIn(dir.path))
    const daemon: DaemonProcess = startDaemonProcess([], home.env, dir.path)
    cleanups.push(async () => {
      if (daemon.exitCode() === undefined) await daemon.stop()
    })
    const ready = await daemon.waitForOutput(/codexd ready: pid \d+, child pid (\d+)/)
    const firstPid = Number(/child pid (\d+)/.exec(ready)?.[1])
    // The leftover check at the end sees this daemon's children.
    expect(codexPidsIn(dir.path)).toContain(firstPid)

    // kill -9 the child: a new one is started and answers initialize again.
    process.kill(firstPid, "SIGKILL")
    const restarted = await waitForChild(
      dir.path,
      home.env,
      (c) => c.status === "running" && c.pid !== firstPid,
    )
    expect(restarted.restartCount).toBe(1)

    // Kill each new child until the budget (5 restarts in 60 s) trips.
    let child = restarted
    while (child.status !== "failed") {
      if (child.pid !== null && child.status === "running") process.kill(child.pid, "SIGKILL")
      const killed = child.pid
      child = await waitForChild(
        dir.path,
        home.env,
        (c) => c.status === "failed" || (c.status === "running" && c.pid !== killed),
      )
    }
    expect(child).toMatchObject({ status: "failed", machineState: "failed", restartCount: 5 })
    expect(daemon.exitCode()).toBeUndefined()
    expect((await runCodexd(["status"], { cwd: dir.path, env: home.env })).exitCode).toBe(0)

    await daemon.stop()
    expect(daemon.exitCode()).toBe(0)
    const leftover = codexPidsIn(dir.path).filter((pid) => !before.has(pid) && isProcessAlive(pid))
    expect(leftover).toEqual([])
  })

  it("leaves no codex process when the daemon is stopped while the child runs", async () => {
    const dir = makeTempDir("codexd-real-daemon-")
    cleanups.push(dir.cleanup)
    const home = makeCodexHome("http://127.0.0.1:9/v1")
    cleanups.push(home.cleanup)
    const daemon = startDaemonProcess([], home.env, dir.path)
    const ready = await daemon.waitForOutput(/child pid (\d+)/)
    const childPid = Number(/child pid (\d+)/.exec(ready)?.[1])
    await daemon.stop()
    expect(isProcessAlive(childPid)).toBe(false)
  })

  it("says at start when codex is not logged in, and the API and `run` say it too", async () => {
    const dir = makeTempDir("codexd-real-login-")
    const bare = makeTempDir("codexd-codex-home-bare-")
    cleanups.push(dir.cleanup, bare.cleanup)
    // A CODEX_HOME with no login and no provider of its own, and no key in the environment.
    const env = { CODEX_HOME: bare.path, OPENAI_API_KEY: "" }
    const daemon = startDaemonProcess([], env, dir.path)
    cleanups.push(() => daemon.stop())
    await daemon.waitForOutput(/codexd ready/, 60_000)
    await daemon.waitForOutput(/codex is not logged in: run `npx codex login`/, 30_000)
    const api = apiAccess(configFor(dir.path))
    expect((await api.call("GET", "/v1/codex/login")).json).toMatchObject({ loggedIn: false })
    const run = await runCodexd(["run", "hello", "--no-follow"], { cwd: dir.path, env })
    expect(run.stderr).toContain("codexd run: codex is not logged in")

    // The mock provider needs no OpenAI sign-in: logged in, and nothing said.
    const other = makeTempDir("codexd-real-login-ok-")
    const home = makeCodexHome("http://127.0.0.1:9/v1")
    cleanups.push(other.cleanup, home.cleanup)
    const fine = startDaemonProcess([], home.env, other.path)
    cleanups.push(() => fine.stop())
    await fine.waitForOutput(/codexd ready/, 60_000)
    const answer = await apiAccess(configFor(other.path)).call("GET", "/v1/codex/login")
    expect(answer.json).toEqual({ loggedIn: true, how: "provider", hint: null })
    expect(fine.output()).not.toContain("not logged in")
  }, 120_000)
})
