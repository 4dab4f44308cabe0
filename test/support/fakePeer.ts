/** Start the fake app-server process and a client over it; everything is stopped by `cleanup`. */
import { join } from "node:path"
import type { AppServerEvent } from "../../src/domain/appServer/events.ts"
import {
  type AppServerClient,
  type AppServerClientOptions,
  makeAppServerClient,
} from "../../src/services/appServer/AppServerClient.ts"
import { type AppServerProcess, spawnAppServer } from "../../src/services/transport/appServerProcess.ts"

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

export const watchEvents = (client: AppServerClient) => {
  const events: Array<AppServerEvent> = []
  const waiters = new Set<{
    predicate: (e: AppServerEvent) => boolean
    resolve: (e: AppServerEvent) => void
  }>()
  client.onEvent((event) => {
    events.push(event)
    for (const w of waiters) {
      if (w.predicate(event)) {
        waiters.delete(w)
        w.resolve(event)
      }
    }
  })
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
  return { events, waitFor }
}

export const startFake = (script: object, options: Partial<AppServerClientOptions> = {}): FakeSession => {
  const proc = spawnFake(script)
  const client = makeAppServerClient(proc.transport, { clientInfo, ...options })
  const { events, waitFor } = watchEvents(client)
  return { proc, client, events, waitFor, cleanup: async () => void (await proc.stop(500)) }
}
