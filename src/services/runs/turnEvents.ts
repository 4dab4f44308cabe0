/**
 * What an app-server event means for the run whose turn it belongs to: the input it is for the
 * runMachine, and the event codexd records about it. Pure; the Runs service routes and applies.
 */
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import type { EventInput } from "../../domain/event.ts"
import type { RunMachineEvent } from "../../machines/runMachine.ts"

/** The ids every run event carries in its detail, so a consumer can filter on any of them. */
export interface RunIds {
  readonly runId: string
  readonly sessionId: string
  readonly threadId: string | null
  readonly turnId: string | null
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The thread an event is about, when it names one. */
export const threadIdOf = (event: AppServerEvent): string | null => {
  if (event.type === "thread.started") return event.thread.id
  if ("threadId" in event && typeof event.threadId === "string") return event.threadId
  if (event.type === "notification" && isRecord(event.params) && typeof event.params.threadId === "string")
    return event.params.threadId
  return null
}

/** The turn an event is about, when it names one. */
export const turnIdOf = (event: AppServerEvent): string | null => {
  if (event.type === "turn.started" || event.type === "turn.completed") return event.turn.id
  if ("turnId" in event && typeof event.turnId === "string") return event.turnId
  if (event.type === "notification" && isRecord(event.params) && typeof event.params.turnId === "string")
    return event.params.turnId
  return null
}

/** The runMachine input for an event of the run's thread. */
export const machineEventOf = (event: AppServerEvent): RunMachineEvent => {
  switch (event.type) {
    case "turn.started":
      return { type: "TURN.STARTED", turnId: event.turn.id }
    case "turn.completed":
      return {
        type: "TURN.COMPLETED",
        status: event.turn.status,
        errorMessage: event.turn.error?.message ?? null,
        ...(event.turn.error?.codexErrorInfo == null
          ? {}
          : { codexErrorInfo: event.turn.error.codexErrorInfo }),
      }
    case "thread.status.changed":
      return event.status.type === "idle" ? { type: "THREAD.IDLE" } : { type: "ACTIVITY" }
    default:
      return { type: "ACTIVITY" }
  }
}

const TAIL = 2_000
const clip = (text: string): string => (text.length > TAIL ? `…${text.slice(-TAIL)}` : text)

/**
 * The event codexd records for an event of a run's turn, or null for those the run's own transitions
 * already tell (turn started and completed) and bookkeeping (status changes, token counts).
 */
export const recordedEventOf = (event: AppServerEvent, ids: RunIds): EventInput | null => {
  const detail = (extra: Record<string, unknown>) => ({ ...ids, ...extra })
  switch (event.type) {
    case "turn.message.delta":
      return {
        type: "run.message.delta",
        message: event.delta,
        detail: detail({ itemId: event.itemId, delta: event.delta }),
      }
    case "item.commandExecution.outputDelta":
      return {
        type: "run.command.output",
        message: clip(event.delta),
        detail: detail({ itemId: event.itemId, delta: event.delta }),
      }
    case "item.started":
    case "item.completed": {
      const item = event.item as Record<string, unknown>
      const verb = event.type === "item.started" ? "started" : "completed"
      if (item.type === "commandExecution") {
        return {
          type: `run.command.${verb}`,
          message: `${verb === "started" ? "$" : `exit ${String(item.exitCode ?? "?")}:`} ${String(item.command ?? "")}`,
          detail: detail({
            itemId: event.item.id,
            command: item.command ?? null,
            cwd: item.cwd ?? null,
            status: item.status ?? null,
            exitCode: item.exitCode ?? null,
            ...(verb === "completed" ? { outputTail: clip(String(item.aggregatedOutput ?? "")) } : {}),
          }),
        }
      }
      if (item.type === "fileChange") {
        return {
          type: `run.fileChange.${verb}`,
          message: `file change ${verb}`,
          detail: detail({ itemId: event.item.id, status: item.status ?? null, changes: item.changes ?? [] }),
        }
      }
      if (item.type === "agentMessage" && verb === "completed") {
        return {
          type: "run.message.completed",
          message: String(item.text ?? ""),
          detail: detail({ itemId: event.item.id }),
        }
      }
      return null
    }
    case "turn.diff.updated":
      return { type: "run.diff.updated", message: "diff updated", detail: detail({ diff: event.diff }) }
    case "turn.plan.updated":
      return {
        type: "run.plan.updated",
        message: event.plan.map((p) => `[${p.status}] ${p.step}`).join("; "),
        detail: detail({ plan: event.plan, explanation: event.explanation ?? null }),
      }
    case "turn.error":
      return {
        level: event.willRetry ? "warn" : "error",
        type: "run.error",
        message: event.error.message,
        detail: detail({ error: event.error, willRetry: event.willRetry }),
      }
    case "warning":
      return { level: "warn", type: "run.warning", message: event.message, detail: detail({}) }
    default:
      return null
  }
}

/** The diffs of a file-change item, as one text for an approval that asks about it; null when none. */
export const diffOfFileChange = (item: Record<string, unknown>): string | null => {
  if (!Array.isArray(item.changes)) return null
  const diffs = (item.changes as ReadonlyArray<Record<string, unknown>>)
    .map((change) => (typeof change.diff === "string" ? `--- ${String(change.path)}\n${change.diff}` : ""))
    .filter((d) => d !== "")
  return diffs.length > 0 ? diffs.join("\n") : null
}
