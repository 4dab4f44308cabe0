import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { codexdBin, runCodexd } from "./support/cli.ts"
import { waitForText } from "./support/supervisorHarness.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const temps: Array<{ cleanup: () => void }> = []
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup()
})

const project = () => {
  const dir = makeTempDir("codexd-logs-")
  temps.push(dir)
  const config = configFor(dir.path)
  mkdirSync(config.paths.logsDir, { recursive: true })
  const pinoLine = (msg: string) =>
    `${JSON.stringify({ level: "info", time: "2026-01-01T00:00:00.000Z", pid: 1, msg })}\n`
  writeFileSync(config.paths.daemonLogPath, ["one", "two", "three"].map(pinoLine).join(""))
  writeFileSync(config.paths.stderrLogPath, "codex said a\ncodex said b\n")
  return { root: dir.path, config, pinoLine }
}

describe("codexd logs (real process, no daemon needed)", () => {
  it("prints the last lines of each log, the daemon's as time, level and message", async () => {
    const { root } = project()
    const both = await runCodexd(["logs", "-n", "2"], { cwd: root })
    expect(both.exitCode).toBe(0)
    expect(both.stdout).toContain("== daemon.log")
    expect(both.stdout).toContain("2026-01-01T00:00:00.000Z info  two\n2026-01-01T00:00:00.000Z info  three")
    expect(both.stdout).not.toContain("info  one")
    expect(both.stdout).toContain("== child.stderr.log")
    expect(both.stdout).toContain("codex said a\ncodex said b")
    const child = await runCodexd(["logs", "--child", "-n", "1"], { cwd: root })
    expect(child.stdout).toBe("codex said b")
    const bad = await runCodexd(["logs", "--daemon", "--child"], { cwd: root })
    expect(bad.exitCode).toBe(2)
  })

  it("follows what is appended, and a rotated log from the start of its new file", async () => {
    const { root, config, pinoLine } = project()
    const follow = execa(process.execPath, [codexdBin, "logs", "-f", "--daemon", "-n", "1"], {
      cwd: root,
      reject: false,
    })
    let seen = ""
    follow.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString("utf8")
    })
    const waitToSee = (text: string) => waitForText(() => seen, text)
    try {
      // The last line first; what is appended after it was printed is followed.
      await waitToSee("info  three")
      appendFileSync(config.paths.daemonLogPath, pinoLine("four"))
      await waitToSee("info  four")
      renameSync(config.paths.daemonLogPath, `${config.paths.daemonLogPath}.1`)
      writeFileSync(config.paths.daemonLogPath, pinoLine("after rotation"))
      await waitToSee("info  after rotation")
      expect(seen.split("info  three")).toHaveLength(2)
      expect(seen).not.toContain("info  two")
    } finally {
      follow.kill()
      await follow
    }
  })
})
