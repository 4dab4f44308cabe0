/**
 * The daemon a smoke talks to: the one already running on the state directory, or one started in this
 * process for the smoke alone, stopped when the smoke is done or its lifetime (smokeLifetimeMs) ends.
 * In-process, so a smoke that is killed can never leave a daemon behind.
 */

import { type ApiConnection, connectApi } from "../../client/apiConnection.ts"
import type { ResolvedConfig } from "../../domain/config.ts"
import { lockHolder } from "../../services/store/StateLock.ts"

export interface SmokeDaemon {
  readonly api: ApiConnection
  /** True when this smoke started the daemon (and will stop it). */
  readonly startedHere: boolean
  readonly stop: () => Promise<void>
}

export type SmokeDaemonResult = SmokeDaemon | { readonly failed: string; readonly stop: () => Promise<void> }

/** How long past the smoke's deadline a daemon started for it may live while the smoke winds up. */
const STOP_GRACE_MS = 5_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A daemon that holds the lock but has not published its API yet is waited for, not replaced. */
const awaitPublished = async (config: ResolvedConfig, deadline: number): Promise<ApiConnection | null> => {
  while (Date.now() < deadline) {
    const api = connectApi(config)
    if (!("noDaemon" in api)) return api
    if (lockHolder(config.paths.lockPath) === null) return null
    await sleep(50)
  }
  return null
}

export const smokeDaemon = async (config: ResolvedConfig, deadline: number): Promise<SmokeDaemonResult> => {
  const noStop = async () => undefined
  if (lockHolder(config.paths.lockPath) !== null) {
    const api = await awaitPublished(config, deadline)
    return api === null
      ? { failed: "the running daemon did not publish its API address in time", stop: noStop }
      : { api, startedHere: false, stop: noStop }
  }

  // Loaded only here: a smoke against a running daemon needs none of the daemon's modules.
  const { runDaemon } = await import("../../daemon.ts")
  const stopper = new AbortController()
  // The checks stop waiting at the deadline and then stop the daemon themselves; this is the backstop.
  const lifetime = setTimeout(() => stopper.abort(), Math.max(0, deadline - Date.now()) + STOP_GRACE_MS)
  let settle: (outcome: { readonly ready: true } | { readonly ready: false; readonly reason: string }) => void
  const readiness = new Promise<
    { readonly ready: true } | { readonly ready: false; readonly reason: string }
  >((resolve) => {
    settle = resolve
  })
  const finished = runDaemon(
    config,
    {
      ready: () => settle({ ready: true }),
      failed: (reason) => settle({ ready: false, reason }),
      note: () => undefined,
    },
    { stopSignal: stopper.signal },
  ).then((outcome) => {
    settle({
      ready: false,
      reason:
        outcome._tag === "LockHeld"
          ? outcome.error.message
          : outcome._tag === "ChildFailed" || outcome._tag === "Failed"
            ? outcome.reason
            : "the daemon stopped before it was ready (the smoke's lifetime ended)",
    })
  })
  const stop = async () => {
    clearTimeout(lifetime)
    stopper.abort()
    await finished
  }
  const readyOrNot = await readiness
  if (!readyOrNot.ready) {
    await stop()
    return { failed: readyOrNot.reason, stop: noStop }
  }
  const api = connectApi(config)
  if ("noDaemon" in api) {
    await stop()
    return { failed: api.noDaemon, stop: noStop }
  }
  return { api, startedHere: true, stop }
}
