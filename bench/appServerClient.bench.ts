/**
 * AppServerClient: notification throughput (a fake peer writes 200,000 `item/agentMessage/delta`
 * lines as fast as it can) beside a plain split-and-JSON.parse reader of the same fake's stdout; and
 * spawn→initialize of the real codex, raw (write the line, wait for the answer) and through the client.
 */
import { spawn } from "node:child_process"
import { Effect, Scope, Stream } from "effect"
import { spawnAppServer } from "../src/services/transport/appServerProcess.ts"
import { makeCodexHome } from "../test/support/codexHome.ts"
import { clientInfo, fakeAppServerPath, scopedClient } from "../test/support/fakePeer.ts"
import { codexBinary } from "../test/support/realCodex.ts"
import { median, report } from "./harness.ts"

const DELTAS = 200_000

const floodScript = (onStart: boolean) => ({
  [onStart ? "onStart" : "onInitialized"]: [
    {
      notify: {
        method: "item/agentMessage/delta",
        params: { threadId: "t", turnId: "u", itemId: "i", delta: "tok " },
      },
      count: DELTAS,
    },
    { exit: 0 },
  ],
})

const clientRate = async (): Promise<number> => {
  const proc = spawnAppServer({
    command: process.execPath,
    args: [fakeAppServerPath],
    cwd: process.cwd(),
    env: { ...process.env, FAKE_APP_SERVER_SCRIPT: JSON.stringify(floodScript(false)) },
  })
  const { client, scope, release } = scopedClient(proc.transport, { clientInfo })
  let decoded = 0
  let start = 0
  const events = Effect.runSync(Scope.provide(scope)(client.subscribe))
  const counted = Effect.runPromise(
    // By batch, as the daemon's own reader takes them.
    Stream.runForEachArray(events, (batch) =>
      Effect.sync(() => {
        for (const event of batch) {
          if (event.type === "turn.message.delta") {
            if (decoded === 0) start = performance.now()
            decoded += 1
          }
        }
      }),
    ),
  )
  await Effect.runPromise(client.initialize)
  // The stream ends with the transport's close, after the last delta.
  await counted
  await release()
  if (decoded !== DELTAS) throw new Error(`decoded ${decoded} of ${DELTAS}`)
  return decoded / ((performance.now() - start) / 1000)
}

const plainRate = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fakeAppServerPath], {
      env: { ...process.env, FAKE_APP_SERVER_SCRIPT: JSON.stringify(floodScript(true)) },
      stdio: ["pipe", "pipe", "ignore"],
    })
    let rest = ""
    let parsed = 0
    let start = 0
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      if (start === 0) start = performance.now()
      const lines = (rest + chunk).split("\n")
      rest = lines.pop() ?? ""
      for (const line of lines)
        if (line !== "" && (JSON.parse(line) as { method?: string }).method) parsed += 1
    })
    child.on("close", () => {
      if (parsed !== DELTAS) reject(new Error(`parsed ${parsed} of ${DELTAS}`))
      else resolve(parsed / ((performance.now() - start) / 1000))
    })
  })

/** Raw: spawn codex, write one initialize line, wait for its answer. */
export const rawInitializeMs = (env: Record<string, string>): Promise<number> =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(codexBinary(), ["app-server"], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "ignore"],
    })
    child.stdout.setEncoding("utf8")
    let buffered = ""
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk
      if (buffered.includes('"id":1')) {
        const elapsed = performance.now() - start
        child.kill("SIGKILL")
        resolve(elapsed)
      }
    })
    child.on("error", reject)
    child.stdin.write(
      `${JSON.stringify({ id: 1, method: "initialize", params: { clientInfo, capabilities: { experimentalApi: true } } })}\n`,
    )
  })

const clientInitializeMs = async (env: Record<string, string>): Promise<number> => {
  const start = performance.now()
  const proc = spawnAppServer({
    command: codexBinary(),
    args: ["app-server"],
    cwd: process.cwd(),
    env: { ...process.env, ...env },
  })
  const { client, release } = scopedClient(proc.transport, { clientInfo, experimentalApi: true })
  await Effect.runPromise(client.initialize)
  const elapsed = performance.now() - start
  await proc.stop(1_000)
  await release()
  return elapsed
}

export const appServerClientBench = async (): Promise<void> => {
  const plain = await plainRate()
  const viaClient = await clientRate()
  report(
    `AppServerClient: notifications decoded, ${DELTAS.toLocaleString("en")} agent-message deltas from a fake peer`,
    { label: "AppServerClient typed events", value: viaClient, unit: "events/s" },
    { label: "plain split + JSON.parse", value: plain, unit: "lines/s" },
  )

  const home = makeCodexHome("http://127.0.0.1:9/v1")
  try {
    const raw: Array<number> = []
    const client: Array<number> = []
    for (let i = 0; i < 5; i++) {
      raw.push(await rawInitializeMs(home.env))
      client.push(await clientInitializeMs(home.env))
    }
    report(
      "Real codex: spawn → initialize answered (median of 5)",
      { label: "through AppServerClient", value: median(client), unit: "ms" },
      { label: "raw spawn + one line", value: median(raw), unit: "ms" },
    )
  } finally {
    home.cleanup()
  }
}
