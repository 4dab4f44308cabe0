/** The real pinned codex app-server, offline against the loopback model mock, with a client over it. */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs"
import { bundledCodexPath } from "../../src/configInputFromProcess.ts"
import type { AppServerClientOptions } from "../../src/services/appServer/AppServerClient.ts"
import { spawnAppServer } from "../../src/services/transport/appServerProcess.ts"
import type { CodexHome } from "./codexHome.ts"
import { clientInfo, type FakeSession, sessionOver } from "./fakePeer.ts"

export const codexBinary = (): string => {
  const path = bundledCodexPath()
  if (path === null)
    throw new Error("the pinned @openai/codex platform package is not installed (run npm ci)")
  return path
}

export const startRealCodex = (
  home: CodexHome,
  cwd: string,
  options: Partial<AppServerClientOptions> = {},
): FakeSession => {
  const proc = spawnAppServer({
    command: codexBinary(),
    args: ["app-server"],
    cwd,
    env: { ...process.env, ...home.env },
  })
  return sessionOver(proc, { clientInfo, experimentalApi: true, ...options }, 2_000)
}

/** The pinned codex's processes working in `cwd` (other suites run codex processes of their own meanwhile). */
export const codexPidsIn = (cwd: string): Array<number> => {
  const where = realpathSync(cwd)
  const pids: Array<number> = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")
      if (cmdline[0]?.endsWith("/bin/codex") && readlinkSync(`/proc/${entry}/cwd`) === where)
        pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}
