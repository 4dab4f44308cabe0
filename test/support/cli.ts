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
    env: options.env ?? {},
    extendEnv: true,
    timeout: 30_000,
  })
