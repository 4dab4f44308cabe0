/**
 * EventLog append throughput (seq, cache, redaction, structured log through pino) beside a plain
 * append of the same JSON lines to a file, in the same run.
 */
import { createWriteStream } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { foundationLayer } from "../src/daemon.ts"
import { EventLog } from "../src/services/events/EventLog.ts"
import { configFor } from "../test/support/tempConfig.ts"
import { report, tempDir } from "./harness.ts"

const EVENTS = 100_000

const inputFor = (i: number) => ({
  type: "turn.message.delta",
  message: "agent message delta",
  detail: {
    runId: "run_bench",
    threadId: "thr_bench",
    turnId: "turn_1",
    itemId: "item_1",
    delta: `token ${i} `,
  },
})

const eventLogRate = async (): Promise<number> => {
  const dir = tempDir("codexd-bench-events-")
  try {
    const config = configFor(dir.path)
    return await Effect.runPromise(
      Effect.gen(function* () {
        const log = yield* EventLog
        const start = performance.now()
        for (let i = 0; i < EVENTS; i++) yield* log.publish(inputFor(i))
        yield* log.flush
        return EVENTS / ((performance.now() - start) / 1000)
      }).pipe(Effect.provide(foundationLayer(config))),
    )
  } finally {
    dir.cleanup()
  }
}

const plainAppendRate = async (): Promise<number> => {
  const dir = tempDir("codexd-bench-plain-")
  try {
    const stream = createWriteStream(join(dir.path, "events.jsonl"))
    const start = performance.now()
    for (let i = 0; i < EVENTS; i++) {
      const line = `${JSON.stringify({ seq: i + 1, createdAt: new Date().toISOString(), level: "info", ...inputFor(i) })}\n`
      if (!stream.write(line)) await new Promise<void>((r) => stream.once("drain", () => r()))
    }
    await new Promise<void>((resolve, reject) => {
      stream.once("error", reject)
      stream.end(() => resolve())
    })
    return EVENTS / ((performance.now() - start) / 1000)
  } finally {
    dir.cleanup()
  }
}

export const eventLogBench = async (): Promise<void> => {
  const plain = await plainAppendRate()
  const logged = await eventLogRate()
  report(
    `EventLog: append throughput, ${EVENTS.toLocaleString("en")} events`,
    { label: "EventLog.publish", value: logged, unit: "events/s" },
    { label: "plain JSON-lines append", value: plain, unit: "events/s" },
  )
}
