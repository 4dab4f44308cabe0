/**
 * The directory of codexd's own package, found from this module's location by walking up to the
 * directory that holds `bin/codexd.js`: the same answer from the sources (src/system/) and from the
 * bundle (dist/), whose depths differ.
 */
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"

const find = (from: string): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "bin", "codexd.js"))) return dir
    if (dirname(dir) === dir) throw new Error(`codexd's package root is not above ${from}`)
  }
}

export const packageRoot: string = find(import.meta.dirname)

/** The CLI's entry point, for starting a detached daemon with the same Node. */
export const codexdEntry: string = join(packageRoot, "bin", "codexd.js")

/**
 * Node flags for a daemon process. A young generation of 1 MB semi-spaces instead of the default (which
 * grows to 32 MB and more under the daemon's allocation rate and never gives the pages back) keeps a
 * busy daemon's RSS ~100 MB lower for a few more scavenges (`npm run bench -- soak` shows both). The
 * same flags are on `bin/codexd.js`'s shebang line, for a daemon started in the foreground.
 */
export const DAEMON_NODE_FLAGS: ReadonlyArray<string> = ["--max-semi-space-size=1"]
