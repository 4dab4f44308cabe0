/** The state-directory lock trusts a pid only together with its start time. */
import { spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { acquireLock, LockHeldError, lockHolder } from "../src/services/store/StateLock.ts"
import { isProcessAlive, processStartTime } from "../src/system/processes.ts"
import { runCodexd } from "./support/cli.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

/** An unrelated live process, as a pid left in a lock after a reboot may name. */
const stranger = () => {
  const child = spawn("sleep", ["60"], { stdio: "ignore" })
  cleanups.push(() => child.kill("SIGKILL"))
  return child.pid as number
}

const lockDir = () => {
  const temp = makeTempDir("codexd-lock-")
  cleanups.push(temp.cleanup)
  mkdirSync(join(temp.path, "state"), { recursive: true })
  return { root: temp.path, lockPath: join(temp.path, "state", "daemon.lock") }
}

describe("the state-directory lock", () => {
  it("records the owner's start time and counts a live owner as holding it", () => {
    const { lockPath } = lockDir()
    const lock = acquireLock(lockPath)
    if (lock instanceof LockHeldError) throw lock
    cleanups.push(lock.release)
    expect(lockHolder(lockPath)).toBe(process.pid)
    const again = acquireLock(lockPath, process.pid + 1)
    expect(again).toBeInstanceOf(LockHeldError)
  })

  it("does not trust a pid whose start time differs: another process has that pid now", () => {
    const { lockPath } = lockDir()
    const pid = stranger()
    expect(processStartTime(pid)).not.toBeNull()
    writeFileSync(lockPath, `${pid} 1\n`)
    expect(lockHolder(lockPath)).toBeNull()
    const lock = acquireLock(lockPath)
    if (lock instanceof LockHeldError) throw lock
    cleanups.push(lock.release)
    expect(lock.tookOverFrom).toBe(pid)
    expect(lockHolder(lockPath)).toBe(process.pid)
  })

  it("the CLI neither reports nor signals a stranger named by a stale lock", async () => {
    const { root } = lockDir()
    const config = configFor(root)
    mkdirSync(config.paths.stateDir, { recursive: true })
    const pid = stranger()
    writeFileSync(config.paths.lockPath, `${pid} 1\n`)
    const stop = await runCodexd(["stop", "--repo-root", root])
    expect(stop.exitCode).toBe(3)
    expect(stop.stderr).toContain("no daemon")
    expect(isProcessAlive(pid)).toBe(true)
  })
})
