/** A Supervisor over the fake app-server, with per-spawn scripts in a temp directory. */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { foundationLayer } from "../../src/daemon.ts"
import type { ResolvedConfig } from "../../src/domain/config.ts"
import type { EventLog } from "../../src/services/events/EventLog.ts"
import type { Store } from "../../src/services/store/Store.ts"
import { Supervisor, type SupervisorOptions } from "../../src/services/supervisor/Supervisor.ts"
import { fakeAppServerPath } from "./fakePeer.ts"
import { configFor, makeTempDir } from "./tempConfig.ts"

export const fastSupervisorOptions: Partial<SupervisorOptions> = {
  // A fake child answers in ~200 ms; a loaded machine must not turn that into a restart.
  startTimeoutMs: 5_000,
  stableAfterMs: 60_000,
  killTimeoutMs: 300,
  maxRestarts: 3,
  restartWindowMs: 60_000,
  backoffDelayMs: () => 20,
}

export interface Harness {
  readonly dir: string
  readonly config: ResolvedConfig
  /** Script for the Nth spawn (1-based), or for every spawn without one of its own. */
  readonly script: (script: object, spawn?: number) => void
  readonly cleanup: () => void
}

export const makeHarness = (): Harness => {
  const temp = makeTempDir("codexd-supervisor-")
  const config = configFor(temp.path, {
    childCommand: process.execPath,
    childArgs: JSON.stringify([fakeAppServerPath, "--script-dir", temp.path]),
  })
  return {
    dir: temp.path,
    config,
    script: (script, spawn) =>
      writeFileSync(
        join(temp.path, spawn === undefined ? "script.json" : `script-${spawn}.json`),
        JSON.stringify(script),
      ),
    cleanup: temp.cleanup,
  }
}

export const supervisorLayer = (
  config: ResolvedConfig,
  options: Partial<SupervisorOptions> = fastSupervisorOptions,
): Layer.Layer<Supervisor | Store | EventLog, unknown> =>
  Supervisor.layer(options).pipe(Layer.provideMerge(foundationLayer(config)))

export const withSupervisor = <A, E>(
  config: ResolvedConfig,
  body: (supervisor: Supervisor["Service"]) => Effect.Effect<A, E, Store | EventLog>,
  options?: Partial<SupervisorOptions>,
): Promise<A> =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* body(yield* Supervisor)
    }).pipe(Effect.provide(supervisorLayer(config, options))) as Effect.Effect<A, unknown>,
  )

export const waitUntil = async (
  predicate: () => boolean,
  timeoutMs = 15_000,
  what: string | (() => string) = "condition",
): Promise<void> => {
  const until = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** The child's state as the Supervisor holds it now (a SubscriptionRef read; never blocks). */
export const childStateOf = (supervisor: Supervisor["Service"]) => Effect.runSync(supervisor.current).state

/** The connected client, or null while there is none. */
export const clientOf = (supervisor: Supervisor["Service"]) => Effect.runSync(supervisor.current).client

/** Resolves once `output()` contains `text`; fails after `timeoutMs` showing what was seen. */
export const waitForText = (output: () => string, text: string, timeoutMs = 30_000): Promise<void> =>
  waitUntil(
    () => output().includes(text),
    timeoutMs,
    () => `${JSON.stringify(text)} in:\n${output()}`,
  )
