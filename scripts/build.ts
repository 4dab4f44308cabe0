/**
 * `npm run build` (and `prepare`, so `npm ci` runs it): the CLI and the daemon bundled into `dist/`,
 * with their npm dependencies, as plain JavaScript; and `codexd/client` beside them (`dist/client.js`,
 * its declarations in `dist/types/` from tsc, so a program gets the types too).
 *
 * Why a bundle: run from the TypeScript sources, every start type-strips ~150 files (Node's stripper
 * is WebAssembly whose memory never shrinks) and loads each module of Effect, xstate and pino on its
 * own. The bundle holds only the code that is used, loads in a third of the time and keeps the
 * daemon's resident memory ~50 MB lower. Split into chunks, a light command (`help`, `status`) loads
 * only its own part, not the daemon's.
 *
 * `bin/codexd.js` uses the bundle only when it is newer than every source file, so an edited checkout
 * never runs stale code; `npm test` builds first.
 */
import { execFileSync } from "node:child_process"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { build } from "esbuild"

const root = join(import.meta.dirname, "..")
const outdir = join(root, "dist")

rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: { cli: join(root, "src", "cli.ts"), client: join(root, "src", "client", "index.ts") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node24",
  // Bundled CommonJS dependencies (pino) still call require for Node's own modules.
  banner: {
    js: 'import { createRequire as __codexdRequire } from "node:module"; const require = __codexdRequire(import.meta.url);',
  },
  // Names stay readable in stack traces and logs; whitespace and syntax are what cost parse time.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "warning",
})
execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", join(root, "tsconfig.client.json")], {
  stdio: "inherit",
})
