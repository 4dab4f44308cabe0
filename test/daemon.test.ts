/** `codexd start | stop | status | machines` as real processes, supervising the fake app-server. */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import type { StatusSummary } from "../src/cli/statusSummary.ts"
import { readLockPid } from "../src/services/store/StateLock.ts"
import { isProcessAlive } from "../src/system/processes.ts"
import { codexdBin, runCodexd } from "./support/cli.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { freePort } from "./support/freePort.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = (script: object = {}) => {
  const dir = makeTempDir("codexd-daemon-")
  cleanups.push(dir.cleanup)
  writeFileSync(join(dir.path, "script.json"), JSON.stringify(script))
  const env = {
    CODEXD_CHILD_COMMAND: process.execPath,
    CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", dir.path]),
  }
  const daemon = (args: ReadonlyArray<string> = []): DaemonProcess => {
    const d = startDaemonProcess(args, env, dir.path)
    cleanups.push(async () => {
      if (d.exitCode() === undefined) await d.stop()
    })
    return d
  }
  const cli = (args: ReadonlyArray<string>) => runCodexd(args, { cwd: dir.path, env })
  return { dir: dir.path, env, daemon, cli }
}

describe("codexd daemon (real processes, fake app-server)", () => {
  it("starts in the foreground, reports ready, refuses a second daemon, and stops on SIGTERM", async () => {
    const { daemon, cli, dir } = setup()
    const first = daemon()
    const ready = await first.waitForOutput(/codexd ready: pid (\d+), child pid (\d+) \(running\)[^\n]*/)
    const childPid = Number(/child pid (\d+)/.exec(ready)?.[1])
    expect(isProcessAlive(childPid)).toBe(true)

    const second = await cli(["start"])
    expect(second.exitCode).toBe(2)
    expect(second.stderr).toContain(`pid ${first.pid}`)

    const status = await cli(["status", "--json"])
    expect(status.exitCode).toBe(0)
    const snapshot = JSON.parse(status.stdout)
    expect(snapshot.daemon).toMatchObject({
      started: true,
      pid: first.pid,
      child: { status: "running", pid: childPid },
    })

    await first.stop()
    expect(first.exitCode()).toBe(0)
    expect(isProcessAlive(childPid)).toBe(false)
    const after = await cli(["status", "--json"])
    expect(after.exitCode).toBe(3)
    expect(JSON.parse(after.stdout).daemon).toMatchObject({ started: false, child: { status: "stopped" } })
    expect(readFileSync(join(dir, ".codexd", "logs", "events.jsonl"), "utf8")).toContain("daemon.stopped")
    // daemon.log tells the daemon's own life, in order.
    const daemonLog = readFileSync(join(dir, ".codexd", "logs", "daemon.log"), "utf8")
    const said = ["started (pid", "api listening on", "codexd ready", "stopping on", "codexd stopped"]
    const at = said.map((words) => daemonLog.indexOf(words))
    expect(at.every((i) => i >= 0)).toBe(true)
    expect(at).toEqual([...at].sort((a, b) => a - b))
  })

  it("takes over a stale lock left by a dead daemon", async () => {
    const { daemon, dir } = setup()
    const lockPath = join(dir, ".codexd", "state", "daemon.lock")
    const { mkdirSync } = await import("node:fs")
    mkdirSync(join(dir, ".codexd", "state"), { recursive: true })
    writeFileSync(lockPath, "999999\n")
    const d = daemon()
    await d.waitForOutput(/codexd ready/)
    expect(readLockPid(lockPath)).toBe(d.pid)
  })

  it("stop and status exit 3 when no daemon runs", async () => {
    const { cli } = setup()
    const stop = await cli(["stop"])
    expect(stop.exitCode).toBe(3)
    expect(stop.stderr).toContain("no daemon is running")
    const status = await cli(["status"])
    expect(status.exitCode).toBe(3)
  })

  it("--detach returns once ready, and stop stops it", async () => {
    const { cli, dir, env } = setup()
    const started = await cli(["start", "--detach", "--json"])
    expect(started.exitCode).toBe(0)
    const ready = JSON.parse(started.stdout) as { ready: boolean; pid: number; childPid: number }
    expect(ready.ready).toBe(true)
    expect(isProcessAlive(ready.pid)).toBe(true)
    cleanups.push(() => {
      if (isProcessAlive(ready.pid)) process.kill(ready.pid, "SIGKILL")
    })
    // The table people read (plain: not a TTY), and the summary scripts poll.
    const table = await cli(["status"])
    expect(table.stdout).toMatch(new RegExp(`^codexd\\s+${ready.pid}\\s+online\\s+\\S+`, "m"))
    expect(table.stdout).toMatch(new RegExp(`^child\\s+${ready.childPid}\\s+running\\s+`, "m"))
    expect(table.stdout).toMatch(/^runs\s+0 queued, 0 running, 0 completed, 0 failed\s+tokens 0$/m)
    expect(table.stdout).not.toContain("\u001b[")
    const brief = JSON.parse((await cli(["status", "--json", "--brief"])).stdout) as StatusSummary
    expect(brief.running).toBe(true)
    expect(brief.daemon.pid).toBe(ready.pid)
    expect(brief.child.pid).toBe(ready.childPid)
    expect(brief.daemon.rssMb).toBeGreaterThan(10)
    expect(brief.runs).toEqual({ queued: 0, running: 0, completed: 0, failed: 0 })
    expect(Object.keys(brief)).not.toContain("runRegistry")
    // On a terminal (a pty from `script`) that has colours the states are coloured, unless NO_COLOR
    // says not to. The terminal is named: without TERM (as under CI) Node counts two colours only.
    const terminal = {
      TERM: "xterm-256color",
      CI: undefined,
      COLORTERM: undefined,
      FORCE_COLOR: undefined,
      NODE_DISABLE_COLORS: undefined,
    }
    const onTty = (noColor: boolean) =>
      execa("script", ["-qc", `${process.execPath} ${codexdBin} status --brief`, "/dev/null"], {
        cwd: dir,
        env: { ...env, ...terminal, NO_COLOR: noColor ? "1" : undefined },
        reject: false,
      })
    expect((await onTty(false)).stdout).toContain("\u001b[32monline\u001b[39m")
    expect((await onTty(true)).stdout).not.toContain("\u001b[")
    const stopped = await cli(["stop", "--json"])
    expect(JSON.parse(stopped.stdout)).toEqual({ stopped: true, pid: ready.pid, via: "api" })
    expect(isProcessAlive(ready.pid)).toBe(false)
    expect(isProcessAlive(ready.childPid)).toBe(false)
  })

  it("stop falls back to SIGTERM when the daemon's API refuses it", async () => {
    const { cli, dir } = setup()
    const started = await cli(["start", "--detach", "--json"])
    const ready = JSON.parse(started.stdout) as { ready: boolean; pid: number }
    cleanups.push(() => {
      if (isProcessAlive(ready.pid)) process.kill(ready.pid, "SIGKILL")
    })
    // The CLI now holds a token the daemon does not know: the API answers 401.
    writeFileSync(join(dir, ".codexd", "state", "api-token"), "not-the-token\n")
    const stopped = await cli(["stop", "--json"])
    expect(JSON.parse(stopped.stdout)).toEqual({ stopped: true, pid: ready.pid, via: "signal" })
    expect(isProcessAlive(ready.pid)).toBe(false)
  })

  it("--detach exits 1 with the reason when the child cannot be started", async () => {
    const { cli } = setup({ onStart: [{ exit: 9 }] })
    const started = await cli(["start", "--detach", "--child-cwd", "."])
    expect(started.exitCode).toBe(1)
    expect(started.stderr).toMatch(/could not be started/)
  })

  it("--detach in exec mode is ready once the binary told its version, and exits 1 when it cannot", async () => {
    const { cli } = setup()
    // Any binary that answers `--version` will do for the start: here, node itself.
    const started = await cli(["start", "--detach", "--server-mode", "exec"])
    expect(started.exitCode).toBe(0)
    expect(started.stdout).toContain(`exec mode (${process.version}, one codex exec per run)`)
    const status = JSON.parse((await cli(["status", "--json"])).stdout)
    cleanups.push(() => {
      if (isProcessAlive(status.daemon.pid)) process.kill(status.daemon.pid, "SIGKILL")
    })
    expect(status.daemon.child).toMatchObject({
      mode: "exec",
      status: "idle",
      machineState: "exec",
      pid: null,
    })
    expect((await cli(["stop"])).exitCode).toBe(0)

    const broken = await cli(["start", "--detach", "--server-mode", "exec", "--child-command", "/bin/false"])
    expect(broken.exitCode).toBe(1)
    expect(broken.stderr).toMatch(/codex cannot run in exec mode: \/bin\/false --version failed/)
  })

  it("--inspect serves the Stately inspector relay on loopback with the machine's events, and stops it", async () => {
    const { daemon } = setup()
    const port = await freePort()
    const d = daemon([`--inspect=${port}`])
    await d.waitForOutput(new RegExp(`inspector: open http://127\\.0\\.0\\.1:${port}`))
    await d.waitForOutput(/codexd ready/)
    const page = await fetch(`http://127.0.0.1:${port}/`)
    expect(await page.text()).toContain(`ws://127.0.0.1:${port}`)
    const received: Array<string> = []
    const socket = new WebSocket(`ws://127.0.0.1:${port}`)
    socket.addEventListener("message", (m) => received.push(String(m.data)))
    const until = Date.now() + 10_000
    while (!received.some((m) => m.includes("alive")) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50))
    socket.close()
    expect(received.some((m) => m.includes('"@xstate.snapshot"') || m.includes("@xstate.snapshot"))).toBe(
      true,
    )
    await d.stop()
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow()
  })

  it("prints its machines as JSON and as Mermaid", async () => {
    const { cli } = setup()
    const json = await cli(["machines", "--json"])
    expect(JSON.parse(json.stdout).childMachine.id).toBe("child")
    const mermaid = await cli(["machines", "--mermaid"])
    expect(mermaid.stdout).toContain("stateDiagram-v2")
    expect(mermaid.stdout).toContain("alive_starting --> alive_running : CHILD.READY")
  })
})
