#!/usr/bin/env -S node --max-semi-space-size=1
// codexd runs its TypeScript sources directly when they are newer than the bundle in dist/ (built by
// `npm ci` and `npm run build`); either way it needs Node's built-in type stripping (>= 22.18).
import { readdirSync, statSync } from "node:fs"
import { enableCompileCache } from "node:module"
import { join } from "node:path"

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `codexd needs Node >= 22.19 (this is ${process.version}); run it through npm (npx codexd, npm start --) to use the pinned Node\n`,
  )
  process.exit(2)
}

const root = join(import.meta.dirname, "..")

// V8 keeps the compiled bundle on disk (in the OS temp dir): later starts skip parsing and compiling it.
enableCompileCache()

const mtimeOf = (path) => {
  try {
    return statSync(path).mtimeMs
  } catch {
    return null
  }
}

/** The newest modification time under `dir` (a few hundred stats: about a millisecond). */
const newestIn = (dir) => {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, mtimeOf(join(entry.parentPath, entry.name)) ?? 0)
  }
  return newest
}

/** The bundle, when it was built after the last change to the sources; else the sources themselves. */
const entry = () => {
  const built = mtimeOf(join(root, "dist", "cli.js"))
  if (built === null || process.env.CODEXD_FROM_SOURCE === "1") return "../src/cli.ts"
  const sources = Math.max(newestIn(join(root, "src")), mtimeOf(join(root, "package.json")) ?? 0)
  return built > sources ? "../dist/cli.js" : "../src/cli.ts"
}

const { runCli } = await import(entry())
await runCli(process.argv.slice(2))
