/** Run the real `codexd` entry point as a child process, the way a user does. */
import { join } from "node:path"
import { execa } from "execa"

export const codexdBin = join(import.meta.dirname, "..", "..", "bin", "codexd.js")

export const runCodexd = (
  args: ReadonlyArray<string>,
  options: { env?: Record<string, string>; cwd?: string } = {},
) =>
  execa(process.execPath, [codexdBin, ...args], {
    reject: false,
    cwd: options.cwd ?? process.cwd(),
    // A started daemon listens on a free port, so test files running side by side never collide.
    env:
      args[0] === "start" ? { CODEXD_API_BASE: "http://127.0.0.1:0", ...options.env } : (options.env ?? {}),
    extendEnv: true,
    timeout: 30_000,
  })
