/**
 * A fresh CODEX_HOME for the real codex, configured to talk only to the loopback model mock:
 * a custom provider at the mock's address, no retries, no update checks, no plugins, apps or
 * analytics. Without these codex reaches for the network or retries forever.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const MOCK_KEY_VARIABLE = "CODEXD_TEST_MOCK_API_KEY"

export interface CodexHome {
  readonly path: string
  /** Environment for a codex process using this home. */
  readonly env: Record<string, string>
  readonly cleanup: () => void
}

export const makeCodexHome = (modelBaseUrl: string, existing?: string): CodexHome => {
  const path = existing ?? mkdtempSync(join(tmpdir(), "codexd-codex-home-"))
  writeFileSync(
    join(path, "config.toml"),
    [
      'model = "mock-model"',
      'model_provider = "mock"',
      "check_for_update_on_startup = false",
      "",
      "[model_providers.mock]",
      'name = "loopback mock"',
      `base_url = "${modelBaseUrl}"`,
      'wire_api = "responses"',
      `env_key = "${MOCK_KEY_VARIABLE}"`,
      "request_max_retries = 0",
      "stream_max_retries = 0",
      "",
      "[features]",
      "plugins = false",
      "apps = false",
      "remote_plugin = false",
      "unbounded_connection_retries = false",
      "",
      "[analytics]",
      "enabled = false",
      "",
    ].join("\n"),
  )
  return {
    path,
    env: { CODEX_HOME: path, [MOCK_KEY_VARIABLE]: "mock-key-not-a-secret" },
    cleanup: () => rmSync(path, { recursive: true, force: true }),
  }
}
