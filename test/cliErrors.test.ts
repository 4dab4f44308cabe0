/** Ordinary trouble reaches the user as one line and a documented exit code, never a stack trace. */
import { spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { processStartTime } from "../src/system/processes.ts"
import { apiAccess } from "./support/apiClient.ts"
import { codexdBin, runCodexd } from "./support/cli.ts"
import { startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { waitForText } from "./support/supervisorHarness.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const temp = () => {
  const dir = makeTempDir("codexd-cli-errors-")
  cleanups.push(dir.cleanup)
  return dir.path
}

/** A port that refuses connections: bound, then closed. */
const closedPort = async (): Promise<number> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const noStack = (stderr: string) => {
  expect(stderr.trim().split("\n")).toHaveLength(1)
  expect(stderr).not.toMatch(/\n\s+at /)
}

/** A port held by another listener for the rest of the test. */
const heldPort = async (): Promise<number> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as { port: number }).port
}

describe("the CLI in ordinary trouble", () => {
  it("says the API port is in use and how to choose another (exit 1)", async () => {
    const root = temp()
    const port = await heldPort()
    const env = {
      CODEXD_CHILD_COMMAND: process.execPath,
      CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", root]),
    }
    const api = await runCodexd(["start", "--api-base", `http://127.0.0.1:${port}`], { cwd: root, env })
    expect(api.exitCode).toBe(1)
    expect(api.stderr).toContain(`the API cannot listen on http://127.0.0.1:${port}: the port is in use`)
    expect(api.stderr).toContain("--api-base http://127.0.0.1:0")
    noStack(api.stderr)
    const inspector = await runCodexd(["start", `--inspect=${port}`], { cwd: root, env })
    expect(inspector.exitCode).toBe(1)
    expect(inspector.stderr).toContain(`the inspector cannot listen on 127.0.0.1:${port}: the port is in use`)
    noStack(inspector.stderr)
  })

  it("says a lock holder that does not answer its API does not answer (exit 3)", async () => {
    const root = temp()
    const config = configFor(root)
    mkdirSync(config.paths.stateDir, { recursive: true })
    // A live process holds the lock, with its true start time: the lock is trusted, the API is not there.
    const holder = spawn("sleep", ["60"], { stdio: "ignore" })
    cleanups.push(() => void holder.kill("SIGKILL"))
    const pid = holder.pid as number
    writeFileSync(config.paths.lockPath, `${pid} ${processStartTime(pid)}\n`)
    writeFileSync(
      config.paths.daemonStatePath,
      JSON.stringify({ apiBase: `http://127.0.0.1:${await closedPort()}` }),
    )
    writeFileSync(config.paths.apiTokenPath, "token-for-a-daemon-that-is-not-there\n", { mode: 0o600 })
    const result = await runCodexd(["sessions", "--repo-root", root])
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toMatch(
      /^codexd sessions: the daemon does not answer at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    )
    noStack(result.stderr)
  })

  it("ends `events --follow` with one line when the daemon stops under it (exit 3)", async () => {
    const root = temp()
    writeFileSync(join(root, "script.json"), JSON.stringify({ simulate: true }))
    const daemon = startDaemonProcess(
      [],
      {
        CODEXD_CHILD_COMMAND: process.execPath,
        CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", root]),
      },
      root,
    )
    cleanups.push(() => daemon.stop())
    await daemon.waitForOutput(/codexd ready/, 60_000)
    const follow = execa(process.execPath, [codexdBin, "events", "--follow"], {
      cwd: root,
      reject: false,
      all: true,
    })
    // Following once it has printed the replayed events.
    let seen = ""
    follow.all?.on("data", (chunk: Buffer) => {
      seen += chunk.toString("utf8")
    })
    const waitToSee = (text: string) => waitForText(() => seen, text)
    await waitToSee("daemon.")
    // A new event reaching it proves the live stream is connected (not only the replay printed).
    await apiAccess(configFor(root)).call("POST", "/v1/sessions", { body: { purpose: "worker" } })
    await waitToSee("session.")
    // SIGKILL: no goodbye on the stream, the connection just breaks.
    daemon.child.kill("SIGKILL")
    const result = await follow
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toMatch(
      /^codexd events: the (event stream broke off: the daemon stopped|daemon closed the event stream)/,
    )
    noStack(result.stderr)
  }, 90_000)
})
