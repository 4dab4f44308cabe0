/**
 * Event relay: agent-message deltas from the child to SSE clients of a real `codexd start` process,
 * beside a plain reader of the same fake peer's stdout, in the same run:
 * - throughput: the peer writes 200,000 deltas for one run as fast as it can; events per second;
 * - latency: the peer writes 20,000 deltas at a steady 10,000 per second, each stamped with the time
 *   it was written; p50 and p99 of (received − written), and what codexd adds;
 * - fan-out: 100 SSE clients on one run of 20,000 deltas; events per second delivered in total.
 */
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { type ApiConnection, connectApi, readFrames } from "../src/client/apiConnection.ts"
import { fakeDaemonConfig } from "../test/support/daemonHarness.ts"
import { startDaemonProcess } from "../test/support/daemonProcess.ts"
import { fakeAppServerPath } from "../test/support/fakePeer.ts"
import { report, tempDir } from "./harness.ts"

const THROUGHPUT_DELTAS = 200_000
const STEADY_DELTAS = 20_000
const STEADY_RATE = 10_000
const CLIENTS = 100
const FANOUT_DELTAS = 20_000

const now = () => performance.timeOrigin + performance.now()

const percentile = (values: Array<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** The latency of one delta: its text is the time the peer wrote it. */
const latencyOf = (delta: string, receivedAt: number) => receivedAt - Number.parseFloat(delta)

interface Reading {
  readonly events: number
  readonly elapsedMs: number
  readonly latencies: Array<number>
}

/** The baseline: the fake peer spoken to directly, its stdout read line by line and parsed. */
const plainReader = (prompt: string): Promise<Reading> =>
  new Promise((resolve, reject) => {
    const peer = spawn(process.execPath, [fakeAppServerPath], {
      env: { ...process.env, FAKE_APP_SERVER_SCRIPT: JSON.stringify({ simulate: true }) },
      stdio: ["pipe", "pipe", "inherit"],
    })
    const write = (message: unknown) => peer.stdin.write(`${JSON.stringify(message)}\n`)
    const latencies: Array<number> = []
    let events = 0
    let startedAt = 0
    createInterface({ input: peer.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as {
        id?: number
        method?: string
        result?: { thread: { id: string } }
        params?: { delta: string }
      }
      if (message.id === 1) write({ id: 2, method: "thread/start", params: {} })
      else if (message.id === 2) {
        startedAt = performance.now()
        const input = [{ type: "text", text: prompt, text_elements: [] }]
        write({ id: 3, method: "turn/start", params: { threadId: message.result?.thread.id, input } })
      } else if (message.method === "item/agentMessage/delta") {
        events++
        if (prompt.startsWith("stamped")) latencies.push(latencyOf(message.params?.delta ?? "", now()))
      } else if (message.method === "turn/completed") {
        const elapsedMs = performance.now() - startedAt
        peer.kill()
        resolve({ events, elapsedMs, latencies })
      }
    })
    peer.on("error", reject)
    write({ id: 1, method: "initialize", params: { clientInfo: { name: "bench", version: "0" } } })
  })

/** `clients` SSE clients of the daemon on one run of `prompt`, each counting its delta events. */
const throughCodexd = async (api: ApiConnection, prompt: string, clients: number) => {
  const session = await api.call("POST", "/v1/sessions", { purpose: "worker" })
  const sessionId = String(session.json.sessionId)
  const streams = await Promise.all(
    Array.from({ length: clients }, () => api.stream(`?sessionId=${encodeURIComponent(sessionId)}`)),
  )
  const readings = streams.map((stream) => {
    const latencies: Array<number> = []
    let events = 0
    let dropped = false
    return readFrames(stream, ({ event, data }) => {
      if (event === "run.message.delta") {
        events++
        const delta = String((data as { detail?: { delta?: unknown } }).detail?.delta ?? "")
        if (prompt.startsWith("stamped")) latencies.push(latencyOf(delta, now()))
      }
      if (event === "dropped") dropped = true
      return event !== "run.completed" && event !== "run.failed" && event !== "dropped"
    }).then(() => ({ events, latencies, dropped, at: performance.now() }))
  })
  const startedAt = performance.now()
  const submitted = await api.call("POST", "/v1/runs", { prompt, sessionId })
  if (submitted.status !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.json)}`)
  const results = await Promise.all(readings)
  return {
    events: results.reduce((sum, r) => sum + r.events, 0),
    elapsedMs: Math.max(...results.map((r) => r.at)) - startedAt,
    latencies: results.flatMap((r) => r.latencies),
    dropped: results.filter((r) => r.dropped).length,
  }
}

export const relayBench = async (): Promise<void> => {
  const dir = tempDir("codexd-bench-relay-")
  writeFileSync(join(dir.path, "script.json"), JSON.stringify({ simulate: true }))
  const config = fakeDaemonConfig(dir.path)
  const daemon = startDaemonProcess(
    [],
    {
      CODEXD_CHILD_COMMAND: process.execPath,
      CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", dir.path]),
      CODEXD_RUN_RETENTION: "100",
    },
    dir.path,
  )
  try {
    await daemon.waitForOutput(/codexd ready: .* api http/, 60_000)
    const api = connectApi(config)
    if ("noDaemon" in api) throw new Error(api.noDaemon)

    const plain = await plainReader(`deltas ${THROUGHPUT_DELTAS}`)
    const relayed = await throughCodexd(api, `deltas ${THROUGHPUT_DELTAS}`, 1)
    if (relayed.events !== THROUGHPUT_DELTAS) throw new Error(`the SSE client got ${relayed.events} deltas`)
    report(
      `Relay: ${THROUGHPUT_DELTAS.toLocaleString("en")} deltas of one run, as fast as the peer writes them`,
      { label: "SSE client of codexd", value: relayed.events / (relayed.elapsedMs / 1000), unit: "events/s" },
      {
        label: "plain reader of the peer's stdout",
        value: plain.events / (plain.elapsedMs / 1000),
        unit: "events/s",
      },
    )

    const steadyPrompt = `stamped ${STEADY_DELTAS} ${STEADY_RATE}`
    const plainSteady = await plainReader(steadyPrompt)
    const relayedSteady = await throughCodexd(api, steadyPrompt, 1)
    for (const p of [50, 99])
      report(
        `Relay: p${p} latency from the peer's write, ${STEADY_DELTAS.toLocaleString("en")} deltas at a steady ${STEADY_RATE.toLocaleString("en")}/s (added by codexd: ${(percentile(relayedSteady.latencies, p) - percentile(plainSteady.latencies, p)).toFixed(2)} ms)`,
        { label: "SSE client of codexd", value: percentile(relayedSteady.latencies, p), unit: "ms" },
        {
          label: "plain reader of the peer's stdout",
          value: percentile(plainSteady.latencies, p),
          unit: "ms",
        },
      )

    const single = await throughCodexd(api, `deltas ${FANOUT_DELTAS}`, 1)
    const fanout = await throughCodexd(api, `deltas ${FANOUT_DELTAS}`, CLIENTS)
    report(
      `Relay: ${CLIENTS} concurrent SSE clients on one run of ${FANOUT_DELTAS.toLocaleString("en")} deltas (${fanout.dropped} dropped for falling behind)`,
      {
        label: `${CLIENTS} clients, delivered in total`,
        value: fanout.events / (fanout.elapsedMs / 1000),
        unit: "events/s",
      },
      { label: "1 client", value: single.events / (single.elapsedMs / 1000), unit: "events/s" },
    )
  } finally {
    await daemon.stop()
    dir.cleanup()
  }
}
