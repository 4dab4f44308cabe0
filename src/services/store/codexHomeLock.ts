/**
 * One app-server per CODEX_HOME. Codex keeps its state in SQLite files in CODEX_HOME; two app-servers
 * on one home fail with "database is locked". A daemon that spawns a codex app-server holds a lock
 * file in that home for as long as it runs, so a second codexd (another project, same user) is refused
 * at start, naming the holder, instead of failing turns later.
 */
import { mkdirSync } from "node:fs"
import { homedir } from "node:os"
import { basename, join } from "node:path"
import type { ResolvedConfig } from "../../domain/config.ts"
import { PRIVATE_DIR_MODE } from "../../system/privateFiles.ts"
import { acquireLock, type HeldLock, type LockHeldError } from "./StateLock.ts"

export const CODEX_HOME_LOCK = "codexd-app-server.lock"

/** The CODEX_HOME the child will use: the daemon's own, inherited, or codex's default. */
export const codexHomeOf = (env: Readonly<Record<string, string | undefined>>): string =>
  env.CODEX_HOME !== undefined && env.CODEX_HOME !== "" ? env.CODEX_HOME : join(homedir(), ".codex")

/**
 * Whether this daemon runs a long-lived codex app-server of its own: the spawn strategy in app-server
 * mode with a codex binary (exec mode's `codex exec` processes may share a home, as the CLI does; an
 * attached server is someone else's; a stand-in that is not codex uses no CODEX_HOME).
 */
const spawnsCodexAppServer = (config: ResolvedConfig): boolean =>
  config.server.childStrategy === "spawn" &&
  config.server.mode === "app-server" &&
  basename(config.server.childCommand).startsWith("codex")

/** Take the CODEX_HOME lock when this daemon needs it; null when it does not. */
export const acquireCodexHomeLock = (
  config: ResolvedConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): HeldLock | LockHeldError | null => {
  if (!spawnsCodexAppServer(config)) return null
  const home = codexHomeOf(env)
  // Created as codex would; what is in it is codex's, and left as it is.
  mkdirSync(home, { recursive: true, mode: PRIVATE_DIR_MODE })
  return acquireLock(join(home, CODEX_HOME_LOCK), process.pid, `CODEX_HOME ${home} (one app-server per home)`)
}
