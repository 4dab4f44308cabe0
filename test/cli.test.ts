import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { execa } from "execa"
import { afterAll, describe, expect, it } from "vitest"
import { ResolvedConfig } from "../src/domain/config.ts"
import { decodeJsonText } from "../src/domain/decode.ts"
import { runCodexd } from "./support/cli.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const repo = makeTempDir("codexd-cli-")
afterAll(repo.cleanup)

describe("codexd CLI (real process)", () => {
  it("config --json prints exactly one valid resolved config", async () => {
    const result = await runCodexd(["config", "--json"], { cwd: repo.path })
    expect(result.exitCode).toBe(0)
    const decoded = decodeJsonText(ResolvedConfig, "stdout")(result.stdout)
    expect(Result.isSuccess(decoded)).toBe(true)
    if (Result.isSuccess(decoded)) {
      expect(decoded.success.paths.repoRoot).toBe(repo.path)
      expect(decoded.success.server.childCommand).toMatch(
        /@openai\/codex-[a-z0-9]+-[a-z0-9]+\/vendor\/.+\/bin\/codex$/,
      )
    }
  })

  it("finds the project from a subdirectory: the nearest .codexd/ above", async () => {
    const project = makeTempDir("codexd-cli-project-")
    try {
      mkdirSync(join(project.path, ".codexd"))
      mkdirSync(join(project.path, "src", "deep"), { recursive: true })
      const result = await runCodexd(["config", "--json"], { cwd: join(project.path, "src", "deep") })
      expect((JSON.parse(result.stdout) as ResolvedConfig).paths.stateDir).toBe(
        join(project.path, ".codexd", "state"),
      )
    } finally {
      project.cleanup()
    }
  })

  it("prints its version, suggests the command meant, and refuses stray arguments", async () => {
    const version = await runCodexd(["--version"], { cwd: repo.path })
    expect(version.exitCode).toBe(0)
    expect(version.stdout).toMatch(/^codexd \d+\.\d+\.\d+$/)
    const typo = await runCodexd(["stauts"], { cwd: repo.path })
    expect(typo.exitCode).toBe(2)
    expect(typo.stderr).toContain("did you mean `codexd status`?")
    const nothingNear = await runCodexd(["frobnicate"], { cwd: repo.path })
    expect(nothingNear.stderr).not.toContain("did you mean")
    const stray = await runCodexd(["start", "banana"], { cwd: repo.path })
    expect(stray.exitCode).toBe(2)
    expect(stray.stderr).toMatch(/^codexd start: unexpected argument "banana"/)
    // Commands that take words still do.
    const runs = await runCodexd(["runs", "run_x", "run_y"], { cwd: repo.path })
    expect(runs.stderr).toContain('unexpected argument "run_y"')
  })

  it("config --json says where each value came from: codexd.json, env, flag or default", async () => {
    const project = makeTempDir("codexd-cli-file-")
    try {
      writeFileSync(
        join(project.path, "codexd.json"),
        JSON.stringify({ maxConcurrentRuns: 7, eventCacheSize: 50 }),
      )
      const result = await runCodexd(["config", "--json", "--node-id", "n1"], {
        cwd: project.path,
        env: { CODEXD_EVENT_CACHE_SIZE: "60" },
      })
      const shown = JSON.parse(result.stdout) as ResolvedConfig & { sources: Record<string, string> }
      expect(shown.runs.maxConcurrentRuns).toBe(7)
      expect(shown.eventCacheSize).toBe(60)
      expect(shown.sources).toMatchObject({
        maxConcurrentRuns: "file",
        eventCacheSize: "env",
        nodeId: "flag",
        runRetention: "default",
      })
      const table = await runCodexd(["config"], { cwd: project.path })
      expect(table.stdout).toMatch(/CODEXD_MAX_CONCURRENT_RUNS\s+7 {2}\(codexd\.json\)/)
    } finally {
      project.cleanup()
    }
  })

  it("prints a bash completion script that completes commands and each command's flags", async () => {
    const script = await runCodexd(["completion", "bash"], { cwd: repo.path })
    expect(script.exitCode).toBe(0)
    const path = join(repo.path, "codexd.bash")
    writeFileSync(path, script.stdout)
    const complete = async (...words: Array<string>) => {
      const line = `source ${path}; COMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _codexd; echo "\${COMPREPLY[@]}"`
      return (await execa("bash", ["-c", line])).stdout
    }
    expect(await complete("codexd", "sta")).toBe("start status")
    expect(await complete("codexd", "events", "--fo")).toBe("--follow")
    expect((await complete("codexd", "logs", "--ch")).split(" ")).toContain("--child")
    expect((await complete("codexd", "logs", "--ch")).split(" ")).toContain("--child-command")
    expect((await runCodexd(["completion", "zsh"], { cwd: repo.path })).stdout).toContain("bashcompinit")
    expect((await runCodexd(["completion", "fish"], { cwd: repo.path })).exitCode).toBe(2)
  })

  it("config honours flags over env", async () => {
    const result = await runCodexd(["config", "--json", "--node-id", "flagged"], {
      cwd: repo.path,
      env: { CODEXD_NODE_ID: "from-env", CODEXD_EVENT_CACHE_SIZE: "12" },
    })
    const config = JSON.parse(result.stdout) as ResolvedConfig
    expect(config.nodeId).toBe("flagged")
    expect(config.eventCacheSize).toBe(12)
  })

  it("config prints a table for people", async () => {
    const result = await runCodexd(["config"], { cwd: repo.path })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/CODEXD_API_BASE\s+http:\/\/127\.0\.0\.1:4319/)
    expect(result.stdout).toMatch(/runRegistryPath\s+\S+runs\.json/)
  })

  it("exits 2 with the variable, the value and the form for a bad value", async () => {
    const result = await runCodexd(["config", "--json"], {
      cwd: repo.path,
      env: { CODEXD_SERVER_MODE: "turbo" },
    })
    expect(result.exitCode).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr).toContain(
      'CODEXD_SERVER_MODE (--server-mode) = "turbo": expected app-server or exec',
    )
  })

  it("exits 2 for a child binary that does not exist", async () => {
    const result = await runCodexd(["config"], {
      cwd: repo.path,
      env: { CODEXD_CHILD_COMMAND: "/nonexistent/codex" },
    })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain("CODEXD_CHILD_COMMAND")
  })

  it("prints help for `help`, `--help` and every command's --help", async () => {
    const general = await runCodexd(["help"])
    expect(general.exitCode).toBe(0)
    expect(general.stdout).toMatch(/commands:[\s\S]*config[\s\S]*CODEXD_STATE_DIR/)
    expect((await runCodexd(["--help"])).stdout).toBe(general.stdout)
    const configHelp = await runCodexd(["config", "--help"])
    expect(configHelp.exitCode).toBe(0)
    expect(configHelp.stdout).toMatch(/^usage: codexd config \[--json\]/)
    expect((await runCodexd(["help", "config"])).stdout).toBe(configHelp.stdout)
  })

  it("help works even when the configuration is broken", async () => {
    const result = await runCodexd(["help"], { env: { CODEXD_EVENT_CACHE_SIZE: "x" } })
    expect(result.exitCode).toBe(0)
  })

  it("exits 2 for an unknown command or option", async () => {
    const unknown = await runCodexd(["launch"])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toContain('unknown command "launch"')
    const badFlag = await runCodexd(["config", "--jsn"])
    expect(badFlag.exitCode).toBe(2)
    expect(badFlag.stderr).toContain("unknown option --jsn")
    const missingValue = await runCodexd(["config", "--state-dir"])
    expect(missingValue.exitCode).toBe(2)
    expect(missingValue.stderr).toContain("--state-dir needs a value")
  })
})
