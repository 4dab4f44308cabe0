/**
 * The machine facts `resolveConfig` needs, read from this process once: flags, environment, working
 * directory, host name, the pinned codex binary, and how to look at files. Kept apart so that
 * `resolveConfig` stays a pure function of its input and tests give it their own.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { hostname } from "node:os"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import packageJson from "../package.json" with { type: "json" }
import type { ConfigInput, SettingKey } from "./config.ts"

const CODEX_TARGETS: Record<string, string> = {
  "linux-x64": "x86_64-unknown-linux-musl",
  "linux-arm64": "aarch64-unknown-linux-musl",
  "darwin-x64": "x86_64-apple-darwin",
  "darwin-arm64": "aarch64-apple-darwin",
  "win32-x64": "x86_64-pc-windows-msvc",
  "win32-arm64": "aarch64-pc-windows-msvc",
}

/**
 * The native codex binary inside the pinned platform package. Spawning it directly (not the
 * package's Node launcher) means the pid we supervise is codex itself, and signals reach it.
 */
export const bundledCodexPath = (): string | null => {
  const key = `${process.platform}-${process.arch}`
  const target = CODEX_TARGETS[key]
  if (target === undefined) return null
  try {
    const require = createRequire(import.meta.url)
    const manifest = require.resolve(`@openai/codex-${key}/package.json`)
    const binary = join(
      manifest,
      "..",
      "vendor",
      target,
      "bin",
      process.platform === "win32" ? "codex.exe" : "codex",
    )
    return isExecutableFile(binary) ? binary : null
  } catch {
    return null
  }
}

const isExecutableFile = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

const isExecutableCommand = (command: string, env: Readonly<Record<string, string | undefined>>): boolean => {
  if (isAbsolute(command) || command.includes("/")) return isExecutableFile(resolve(command))
  return (env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && isExecutableFile(join(dir, command)))
}

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

export const configInputFromProcess = (flags: Partial<Record<SettingKey, string>>): ConfigInput => ({
  flags,
  env: process.env,
  cwd: process.cwd(),
  hostname: hostname(),
  version: packageJson.version,
  bundledCodex: bundledCodexPath(),
  isExecutable: (command) => isExecutableCommand(command, process.env),
  isDirectory,
  exists: existsSync,
  readFile: (path) => {
    try {
      return readFileSync(path, "utf8")
    } catch {
      return null
    }
  },
})
