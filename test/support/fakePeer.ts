/** Start the fake app-server process and a client over it; everything is stopped by `cleanup`. */
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { AppServerEvent } from "../../src/domain/appServer/events.ts"
import {
  type AppServerClient,
  type AppServerClientOptions,
  makeAppServerClient,
} from "../../src/services/appServer/AppServerClient.ts"
import { type AppServerProcess, spawnAppServer } from "../../src/services/transport/appServerProcess.ts"
import type { Transport } from "../../src/services/transport/Transport.ts"

export const fakeAppServerPath = join(import.meta.dirname, "..", "fixtures", "fakeAppServer.ts")

export const spawnFake = (script: object): AppServerProcess =>
  spawnAppServer({
    command: process.execPath,
    args: [fakeAppServerPath],
    cwd: process.cwd(),
    env: { ...process.env, FAKE_APP_SERVER_SCRIPT: JSON.stringify(script) },
  })

export interface FakeSession {
  readonly proc: AppServerProcess
  readonly client: AppServerClient
  readonly events: Array<AppServerEvent>
  /** The next event matching `predicate`, from those seen so far or yet to come. */
  readonly waitFor: (predicate: (e: AppServerEvent) => boolean, timeoutMs?: number) => Promise<AppServerEvent>
  readonly cleanup: () => Promise<void>
}

export const clientInfo = { name: "codexd-test", title: null, version: "0.0.0" }

export interface OpenClient {
  readonly client: AppServerClient
  readonly events: Array<AppServerEvent>
  readonly waitFor: FakeSession["waitFor"]
  /** Close the client's scope (its handler fibers and the event reader). */
  readonly release: () => Promise<void>
}

/** A client over `transport` in a scope of its own; `release` closes the scope. */
export const scopedClient = (transport: Transport, options: AppServerClientOptions) => {
  const scope = Effect.runSync(Scope.make())
  const client = Effect.runSync(Scope.provide(scope)(makeAppServerClient(transport, options)))
  return { client, scope, release: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/**
 * A client over `transport` in a scope of its own, with every event it emits collected from the
 * first line on (the subscription is taken before the client reads anything).
 */
export const openClient = (transport: Transport, options: AppServerClientOptions): OpenClient => {
  const { client, scope } = scopedClient(transport, options)
  const stream = Effect.runSync(Scope.provide(scope)(client.subscribe))
  const events: Array<AppServerEvent> = []
  const waiters = new Set<{
    predicate: (e: AppServerEvent) => boolean
    resolve: (e: AppServerEvent) => void
  }>()
  const reader = Effect.runFork(
    Stream.runForEach(stream, (event) =>
      Effect.sync(() => {
        events.push(event)
        for (const w of waiters) {
          if (w.predicate(event)) {
            waiters.delete(w)
            w.resolve(event)
          }
        }
      }),
    ),
  )
  const waitFor = (predicate: (e: AppServerEvent) => boolean, timeoutMs = 20_000) => {
    const seen = events.find(predicate)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise<AppServerEvent>((resolve, reject) => {
      const entry = { predicate, resolve }
      waiters.add(entry)
      setTimeout(() => {
        if (waiters.delete(entry))
          reject(
            new Error(
              `no matching event within ${timeoutMs} ms; saw ${events.map((e) => e.type).join(", ")}`,
            ),
          )
      }, timeoutMs).unref()
    })
  }
  const release = () =>
    Effect.runPromise(Effect.andThen(Scope.close(scope, Exit.void), Fiber.interrupt(reader)))
  return { client, events, waitFor, release }
}

/** A client over a started app-server process; `cleanup` stops the process, then the client. */
export const sessionOver = (
  proc: AppServerProcess,
  options: AppServerClientOptions,
  stopTimeoutMs: number,
): FakeSession => {
  const { client, events, waitFor, release } = openClient(proc.transport, options)
  return {
    proc,
    client,
    events,
    waitFor,
    cleanup: async () => {
      await proc.stop(stopTimeoutMs)
      await release()
    },
  }
}

export const startFake = (script: object, options: Partial<AppServerClientOptions> = {}): FakeSession =>
  sessionOver(spawnFake(script), { clientInfo, ...options }, 500)
