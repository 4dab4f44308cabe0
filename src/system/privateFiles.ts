/**
 * The state and log directories hold prompts, agent output and command lines: only their owner may
 * read them. Directories are 0700 and files 0600 whatever the umask (a umask only removes bits, and
 * every mode here is set explicitly or forced with chmod); files an earlier version left readable
 * are tightened when the directory is opened.
 */
import { chmodSync, mkdirSync, readdirSync } from "node:fs"
import { join } from "node:path"

export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/**
 * Create `dir` (and its missing parents) and make it and `alsoTighten` (its codexd-owned parents,
 * such as `.codexd`) 0700; every file already in `dir` becomes 0600.
 */
export const ensurePrivateDir = (dir: string, alsoTighten: ReadonlyArray<string> = []): void => {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  for (const parent of alsoTighten) chmodSync(parent, PRIVATE_DIR_MODE)
  chmodSync(dir, PRIVATE_DIR_MODE)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) chmodSync(join(dir, entry.name), PRIVATE_FILE_MODE)
  }
}
