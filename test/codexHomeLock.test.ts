/** One app-server per CODEX_HOME: a second codexd spawning codex on the same home is refused at start. */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { CODEX_HOME_LOCK } from "../src/services/store/codexHomeLock.ts"
import { runCodexd } from "./support/cli.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe("one app-server per CODEX_HOME", () => {
  it("refuses a second daemon on the same CODEX_HOME, naming the holder, and frees the home when it stops", async () => {
    const temp = makeTempDir("codexd-home-")
    cleanups.push(temp.cleanup)
    // The fake app-server, started through a binary named like codex (as the pinned one is).
    const bin = join(temp.path, "bin")
    mkdirSync(bin)
    symlinkSync(process.execPath, join(bin, "codex"))
    const codexHome = join(temp.path, "codex-home")
    const project = (name: string) => {
      const dir = join(temp.path, name)
      mkdirSync(dir)
      writeFileSync(join(dir, "script.json"), JSON.stringify({ simulate: true }))
      return {
        dir,
        env: {
          CODEX_HOME: codexHome,
          CODEXD_CHILD_COMMAND: join(bin, "codex"),
          CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", dir]),
        },
      }
    }
    const first = project("first")
    const second = project("second")
    const daemon: DaemonProcess = startDaemonProcess([], first.env, first.dir)
    cleanups.push(() => daemon.stop())
    await daemon.waitForOutput(/codexd ready/)
    expect(existsSync(join(codexHome, CODEX_HOME_LOCK))).toBe(true)

    const refused = await runCodexd(["start"], { cwd: second.dir, env: second.env })
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain(
      `another codexd (pid ${daemon.pid}) already runs on CODEX_HOME ${codexHome}`,
    )
    // Its own state directory was left alone: no daemon recorded there.
    expect((await runCodexd(["status"], { cwd: second.dir, env: second.env })).exitCode).toBe(3)

    await daemon.stop()
    expect(existsSync(join(codexHome, CODEX_HOME_LOCK))).toBe(false)
    const next = startDaemonProcess([], second.env, second.dir)
    cleanups.push(() => next.stop())
    await next.waitForOutput(/codexd ready/)
  })
})
