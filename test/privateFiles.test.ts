/** State and log files hold prompts and output: 0700 directories and 0600 files, whatever the umask. */
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fakeDaemonConfig, withDaemonServices } from "./support/daemonHarness.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temps: Array<() => void> = []
afterEach(() => {
  for (const cleanup of temps.splice(0)) cleanup()
})

/** Every directory and file under `root`, with its permission bits. */
const modesUnder = (root: string): Array<{ path: string; dir: boolean; mode: number }> => {
  const found: Array<{ path: string; dir: boolean; mode: number }> = []
  const walk = (path: string) => {
    const stat = statSync(path)
    found.push({ path, dir: stat.isDirectory(), mode: stat.mode & 0o777 })
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name))
  }
  walk(root)
  return found
}

describe("private files", () => {
  it("creates state and log directories 0700 and every file in them 0600 under umask 000", async () => {
    const temp = makeTempDir("codexd-private-")
    temps.push(temp.cleanup)
    writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
    const config = fakeDaemonConfig(temp.path)
    // A file an earlier version left world-readable is tightened when the directory is opened.
    mkdirSync(config.paths.stateDir, { recursive: true })
    writeFileSync(config.paths.sessionRegistryPath, '{"updatedAt":null,"sessions":[]}\n')
    chmodSync(config.paths.sessionRegistryPath, 0o644)
    const previous = process.umask(0)
    try {
      await withDaemonServices(config, async (d) => {
        const session = await d.run(d.sessions.create({ purpose: "worker" }))
        const run = await d.run(d.runs.submit({ prompt: "hello", sessionId: session.sessionId }))
        expect((await d.finished(run.runId)).status).toBe("completed")
      })
    } finally {
      process.umask(previous)
    }
    const entries = [...modesUnder(config.paths.stateRootDir), ...modesUnder(config.paths.logsRootDir)]
    const files = entries.filter((e) => !e.dir).map((e) => e.path)
    // What a run leaves behind is all there: the registries, the event cache and log, the daemon log.
    for (const path of [
      config.paths.runRegistryPath,
      config.paths.runJournalPath,
      config.paths.sessionRegistryPath,
      config.paths.sessionJournalPath,
      config.paths.recentEventsPath,
      config.paths.structuredEventLogPath,
      config.paths.daemonLogPath,
    ])
      expect(files).toContain(path)
    const loose = entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))
    expect(loose.map((e) => `${e.path} ${e.mode.toString(8)}`)).toEqual([])
  })
})
