/**
 * The external strategy attached to the official shared app-server (`codex app-server daemon`) of a
 * temp CODEX_HOME, the real pinned codex against the loopback model mock: codexd starts the daemon
 * when it is down, attaches over its Unix socket, starts it again after a SIGKILL and resumes the
 * session there, and leaves it running when codexd stops.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Result, Schema } from "effect"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { codexDaemonSocketPath, resolveConfig } from "../src/config.ts"
import { SmokeResult } from "../src/domain/status.ts"
import { parseDaemonStartOutput } from "../src/services/supervisor/codexDaemon.ts"
import { runCodexd } from "./support/cli.ts"
import { withDaemonServices } from "./support/daemonHarness.ts"
import { useModelInEnv } from "./support/modelInEnv.ts"
import { codexBinary } from "./support/realCodex.ts"
import { childStateOf, clientOf, waitUntil } from "./support/supervisorHarness.ts"
import { makeTempDir, testConfigInput } from "./support/tempConfig.ts"

const model = useModelInEnv()
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const codexHome = () => process.env.CODEX_HOME ?? ""
const daemonCli = (verb: "start" | "stop" | "version") =>
  execa(codexBinary(), ["app-server", "daemon", verb], { reject: false, stdin: "ignore" })

/** The pid codex recorded in one of its daemon's pid files, or null when there is none. */
const recordedPid = (file: "daemon.pid" | "daemon-updater.pid"): number | null => {
  try {
    return (JSON.parse(readFileSync(join(codexHome(), "app-server-daemon", file), "utf8")) as { pid: number })
      .pid
  } catch {
    return null
  }
}

/** Running, not merely a zombie (the daemon's parent is gone; whoever adopted it may not reap). */
const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

/**
 * `daemon stop` ends the server but not the updater loop it started beside it: end that one too
 * (by its recorded pid), and wait until every codex process this test made is gone.
 */
const stopDaemon = async (pids: Set<number>) => {
  await daemonCli("stop")
  for (const file of ["daemon.pid", "daemon-updater.pid"] as const) {
    const pid = recordedPid(file)
    if (pid !== null) pids.add(pid)
  }
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGTERM")
  await waitUntil(() => [...pids].every((pid) => !isAlive(pid)), 20_000, "every codex daemon process gone")
}

describe("external strategy on the shared codex daemon (real codex, unix socket)", () => {
  it("starts the daemon, starts it again after a SIGKILL, resumes the session, and leaves it running", async () => {
    const mock = model.mock()
    const temp = makeTempDir("codexd-codex-daemon-")
    cleanups.push(temp.cleanup)
    const socketPath = codexDaemonSocketPath(codexHome())
    const endpoint = `unix://${socketPath}`
    const pids = new Set<number>()
    cleanups.push(() => stopDaemon(pids))

    const resolved = resolveConfig(
      testConfigInput({
        cwd: temp.path,
        env: { CODEX_HOME: codexHome() },
        flags: { childStrategy: "external", endpoint, childCommand: codexBinary() },
      }),
    )
    if (Result.isFailure(resolved)) throw resolved.failure
    const config = resolved.success
    expect(config.server.codexDaemon).toEqual({ codexHome: codexHome(), socketPath })

    await withDaemonServices(config, async (d) => {
      // No daemon runs yet: codexd starts it and attaches over its socket.
      await waitUntil(() => clientOf(d.supervisor) !== null, 120_000, "attached to the started daemon")
      expect(childStateOf(d.supervisor)).toMatchObject({
        strategy: "external",
        status: "external",
        endpoint,
        pid: null,
        machineState: "external.link.connected",
      })
      const first = recordedPid("daemon.pid")
      expect(first).not.toBeNull()
      if (first === null) return
      pids.add(first)

      const session = await d.run(
        d.sessions.create({ purpose: "duplex", cwd: temp.path, approvalPolicy: "never" }),
      )
      mock.enqueue({ kind: "text", deltas: ["first ", "answer"] })
      const before = await d.finished(
        (await d.run(d.runs.submit({ prompt: "one", sessionId: session.sessionId }))).runId,
      )
      expect(before.status).toBe("completed")

      // The shared server dies; codex does not bring it back, codexd does.
      process.kill(first, "SIGKILL")
      await d.waitForEvent((e) => e.type === "child.exited", "the connection's end")
      await waitUntil(
        () => {
          const pid = recordedPid("daemon.pid")
          return pid !== null && pid !== first && isAlive(pid) && clientOf(d.supervisor) !== null
        },
        120_000,
        "a new daemon, attached",
      )
      const second = recordedPid("daemon.pid")
      if (second !== null) pids.add(second)
      expect(isAlive(first)).toBe(false)
      expect(childStateOf(d.supervisor).restartCount).toBeGreaterThan(0)

      mock.enqueue({ kind: "text", deltas: ["after ", "restart"] })
      const after = await d.finished(
        (await d.run(d.runs.submit({ prompt: "two", sessionId: session.sessionId }))).runId,
      )
      expect(after.status).toBe("completed")
      expect(after.threadId).toBe(session.threadId)
      expect((after.result as { finalMessage?: string }).finalMessage).toBe("after restart")
      expect(
        d.events.some((e) => e.type === "session.thread.resumed" && e.detail?.threadId === session.threadId),
      ).toBe(true)
      // The model saw the conversation so far: the thread was resumed on the new server.
      expect(JSON.stringify(mock.requests.at(-1))).toContain("first answer")
    })

    // codexd is gone; the shared server it attached to is still running (never ours to stop).
    const server = recordedPid("daemon.pid")
    expect(server !== null && isAlive(server)).toBe(true)
    const version = await daemonCli("version")
    expect(parseDaemonStartOutput(String(version.stdout))?.status).toBe("running")
  }, 300_000)

  it("smokes the daemon of CODEX_HOME by name: started, every check ok, left running", async () => {
    const temp = makeTempDir("codexd-codex-daemon-smoke-")
    cleanups.push(temp.cleanup)
    const pids = new Set<number>()
    cleanups.push(() => stopDaemon(pids))
    // No daemon runs (the previous test stopped its own): smoke has codexd start one.
    const before = recordedPid("daemon.pid")
    expect(before !== null && isAlive(before)).toBe(false)

    const run = await runCodexd(["smoke", "--json"], {
      cwd: temp.path,
      env: {
        CODEXD_API_BASE: "http://127.0.0.1:0",
        CODEXD_CHILD_STRATEGY: "external",
        CODEXD_SERVER_ENDPOINT: "codex-daemon",
      },
    })
    const result = Schema.decodeUnknownSync(SmokeResult)(JSON.parse(run.stdout))
    expect(result.checks.filter((c) => c.status !== "ok")).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(result.checks.find((c) => c.name === "child")?.detail).toContain("attached to codex-daemon")
    const server = recordedPid("daemon.pid")
    expect(server).not.toBeNull()
    if (server !== null) pids.add(server)
    expect(server !== null && isAlive(server)).toBe(true)
  }, 120_000)
})
