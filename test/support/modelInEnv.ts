/**
 * For a suite whose codex runs as a child of the test process: the loopback model mock and a
 * CODEX_HOME pointing at it, put into `process.env` for the suite (children inherit the daemon's
 * environment, as in production) and taken out again after it, with every temp dir the suite made.
 */
import { afterAll, beforeAll } from "vitest"
import type { SettingKey } from "../../src/config.ts"
import { type CodexHome, makeCodexHome } from "./codexHome.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./mockResponsesApi.ts"
import { codexBinary } from "./realCodex.ts"
import { configFor, makeTempDir } from "./tempConfig.ts"

export interface ModelInEnv {
  readonly mock: () => MockResponsesApi
  /** A config over a fresh temp dir whose child is the pinned codex. */
  readonly realConfig: (
    prefix: string,
    flags?: Partial<Record<SettingKey, string>>,
  ) => ReturnType<typeof configFor>
}

export const useModelInEnv = (): ModelInEnv => {
  let mock: MockResponsesApi | null = null
  let home: CodexHome | null = null
  const saved: Record<string, string | undefined> = {}
  const temps: Array<() => void> = []

  beforeAll(async () => {
    mock = await startMockResponsesApi()
    home = makeCodexHome(`${mock.baseUrl}/v1`)
    for (const [key, value] of Object.entries(home.env)) {
      saved[key] = process.env[key]
      process.env[key] = value
    }
  })

  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    for (const cleanup of temps) cleanup()
    home?.cleanup()
    await mock?.close()
  })

  return {
    mock: () => {
      if (mock === null) throw new Error("the model mock starts in beforeAll")
      return mock
    },
    realConfig: (prefix, flags = {}) => {
      const temp = makeTempDir(prefix)
      temps.push(temp.cleanup)
      return configFor(temp.path, { childCommand: codexBinary(), childArgs: '["app-server"]', ...flags })
    },
  }
}
