import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { runCodexd } from "./support/cli.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temps: Array<{ cleanup: () => void }> = []
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup()
})

const hasSystemdAnalyze = existsSync("/usr/bin/systemd-analyze") || existsSync("/bin/systemd-analyze")

describe.skipIf(process.platform !== "linux")("codexd service (systemd user unit)", () => {
  it("installs a unit that runs codexd start in the project, which systemd-analyze accepts; status and uninstall", async () => {
    const project = makeTempDir("codexd-service-")
    const configHome = makeTempDir("codexd-xdg-")
    temps.push(project, configHome)
    const env = { XDG_CONFIG_HOME: configHome.path, CODEX_HOME: join(project.path, "codex-home") }
    const cli = (...args: Array<string>) => runCodexd(args, { cwd: project.path, env })

    const installed = await cli("service", "install", "--user", "--json")
    expect(installed.exitCode).toBe(0)
    const { path, kind } = JSON.parse(installed.stdout) as { path: string; kind: string }
    expect(kind).toBe("systemd")
    expect(path.startsWith(join(configHome.path, "systemd", "user", "codexd-"))).toBe(true)
    const unit = readFileSync(path, "utf8")
    expect(unit).toContain(`WorkingDirectory=${project.path}`)
    expect(unit).toMatch(/^ExecStart=".*node" "--max-semi-space-size=1" ".*\/bin\/codexd\.js" "start"$/m)
    expect(unit).toContain("Restart=on-failure")
    expect(unit).toContain(`Environment="CODEX_HOME=${env.CODEX_HOME}"`)
    if (hasSystemdAnalyze) {
      const verified = await execa("systemd-analyze", ["verify", path], { reject: false })
      // It exits 0 even for a bad line; what it says about the unit is the verdict.
      expect(verified.stderr.split("\n").filter((line) => line.includes(path))).toEqual([])
    }

    const status = await cli("service", "status", "--user", "--json")
    expect(JSON.parse(status.stdout)).toMatchObject({ installed: true, path })
    const removed = await cli("service", "uninstall", "--user")
    expect(removed.exitCode).toBe(0)
    expect(existsSync(path)).toBe(false)
    expect(JSON.parse((await cli("service", "status", "--user", "--json")).stdout)).toMatchObject({
      installed: false,
    })
    expect((await cli("service", "enable")).exitCode).toBe(2)
  })
})
