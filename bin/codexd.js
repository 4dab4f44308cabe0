#!/usr/bin/env node
// codexd runs its TypeScript sources directly, which needs Node's built-in type stripping (>= 22.18).
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `codexd needs Node >= 22.19 (this is ${process.version}); run it through npm (npx codexd, npm start --) to use the pinned Node\n`,
  )
  process.exit(2)
}
const { runCli } = await import("../src/cli.ts")
await runCli(process.argv.slice(2))
