/**
 * Following one run to its end over the event stream, without ever missing the end. The stream may
 * say that events were dropped from the recent-events cache (`reset`), drop a slow follower
 * (`dropped`), or break off when the daemon restarts; each time the run's record decides whether it
 * has ended, and the stream resumes after the last event seen. From seq 0 at first: the cache replays
 * whatever happened before the follower connected.
 */
import * as Result from "effect/Result"
import { decodeValue } from "../domain/decode.ts"
import { RecentEvent } from "../domain/event.ts"
import { isFinished, RunRecord } from "../domain/run.ts"
import { type ApiConnection, DaemonUnreachable, sseFrames } from "./apiConnection.ts"

/** How many reads of the record in a row may go unanswered before the run's state is given up as unknown. */
const MAX_UNANSWERED = 30

const isEnd = (type: string) => type === "run.completed" || type === "run.failed"

/** The run's record, or null when the daemon did not give it (gone, restarting). */
const readRecord = async (api: ApiConnection, runId: string): Promise<RunRecord | null> => {
  const reply = await api.call("GET", `/v1/runs/${encodeURIComponent(runId)}`).catch(() => null)
  if (reply === null || reply.status !== 200) return null
  return Result.getOrNull(decodeValue(RunRecord, "the run")(reply.json))
}

/** Each event of the run as it happens; returns the run's final record. */
export async function* followRun(api: ApiConnection, runId: string): AsyncGenerator<RecentEvent, RunRecord> {
  let lastSeq = 0
  let unanswered = 0
  for (let attempt = 0; ; attempt++) {
    let ended = false
    let interrupted = false
    try {
      const res = await api.stream(`?since=${lastSeq}&runId=${encodeURIComponent(runId)}`)
      for await (const { event, id, data } of sseFrames(res)) {
        if (id !== null) lastSeq = id
        // Whatever was before the cache's oldest event is gone: the record tells if the end was.
        if (event === "reset")
          lastSeq = Math.max(lastSeq, Number((data as { oldestSeq?: number }).oldestSeq ?? 1) - 1)
        const decoded = decodeValue(RecentEvent, "an event")(data)
        if (Result.isSuccess(decoded)) yield decoded.success
        ended = isEnd(event)
        interrupted = event === "reset" || event === "dropped"
        if (ended || interrupted) break
      }
    } catch {
      // The daemon went away mid-stream (a restart): the record is asked, then the stream again.
    }
    const record = await readRecord(api, runId)
    unanswered = record === null ? unanswered + 1 : 0
    if (unanswered >= MAX_UNANSWERED)
      throw new DaemonUnreachable(
        `the daemon stopped answering; the state of run ${runId} is unknown (codexd runs ${runId})`,
      )
    if (record !== null && isFinished(record)) return record
    if (!ended && !interrupted) await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)))
  }
}
