/** Run records for tests. */
import { newRunId } from "../../src/domain/ids.ts"
import type { RunRecord } from "../../src/domain/run.ts"

let clock = Date.parse("2026-01-01T00:00:00.000Z")
const tick = (): string => {
  clock += 1000
  return new Date(clock).toISOString()
}

export const makeRun = (overrides: Partial<RunRecord> = {}): RunRecord => {
  const at = tick()
  return {
    runId: newRunId(),
    sessionId: null,
    threadId: null,
    turnId: null,
    approvals: null,
    status: "queued",
    adapter: "app-server",
    prompt: "say hello",
    purpose: null,
    cwd: null,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    finishedAt: null,
    error: null,
    errorCode: null,
    summary: null,
    metadata: {},
    result: null,
    ...overrides,
  }
}

export const finished = (run: RunRecord): RunRecord => {
  const at = tick()
  return { ...run, status: "completed", startedAt: run.startedAt ?? at, finishedAt: at, updatedAt: at }
}
