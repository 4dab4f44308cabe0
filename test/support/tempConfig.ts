/** A throwaway state directory and a resolved config pointing at it, for tests of file-owning services. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Result } from "effect"
import { type ConfigInput, resolveConfig, type SettingKey } from "../../src/config.ts"
import type { ResolvedConfig } from "../../src/domain/config.ts"

export const makeTempDir = (
  prefix = "codexd-test-",
): { readonly path: string; readonly cleanup: () => void } => {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** Machine facts fixed for tests: no real PATH lookups, every directory exists, `codex` is executable. */
export const testConfigInput = (overrides: Partial<ConfigInput> = {}): ConfigInput => ({
  flags: {},
  env: {},
  cwd: "/srv/project",
  hostname: "test-host",
  version: "9.9.9",
  bundledCodex: "/opt/codex/bin/codex",
  isExecutable: () => true,
  isDirectory: () => true,
  // Nothing above cwd marks a project: cwd is the project root.
  exists: () => false,
  readFile: () => null,
  ...overrides,
})

export const configFor = (
  repoRoot: string,
  flags: Partial<Record<SettingKey, string>> = {},
): ResolvedConfig => {
  const resolved = resolveConfig(testConfigInput({ cwd: repoRoot, flags }))
  if (Result.isFailure(resolved)) throw resolved.failure
  return resolved.success
}
