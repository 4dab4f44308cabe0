/**
 * A run's result, folded from the app-server events of its turn: the final agent message, the unified
 * diff, the plan, token usage, the commands run (with an output tail) and the file changes. Pure and
 * incremental: the Runs service feeds each event of the run's turn in, and reads the result at the end.
 *
 * Deltas are kept as chunks and joined once, so a turn streaming 200,000 deltas costs linear time.
 */
import * as Schema from "effect/Schema"
import type { AppServerEvent } from "./appServer/events.ts"
import { UnknownRecord } from "./json.ts"

export const OUTPUT_TAIL_CHARS = 4_000

export const CommandRun = Schema.Struct({
  itemId: Schema.String,
  command: Schema.String,
  exitCode: Schema.NullOr(Schema.Number),
  status: Schema.NullOr(Schema.String),
  /** The last OUTPUT_TAIL_CHARS characters of the command's aggregated output. */
  outputTail: Schema.String,
})
export type CommandRun = typeof CommandRun.Type

export const FileChange = Schema.Struct({
  path: Schema.String,
  kind: Schema.Unknown,
  diff: Schema.String,
})
export type FileChange = typeof FileChange.Type

export const PlanItem = Schema.Struct({ step: Schema.String, status: Schema.String })

/** What a finished run did, as far as codex told. */
export const RunResult = Schema.Struct({
  threadId: Schema.NullOr(Schema.String),
  turnId: Schema.NullOr(Schema.String),
  turnStatus: Schema.NullOr(Schema.String),
  finalMessage: Schema.NullOr(Schema.String),
  diff: Schema.NullOr(Schema.String),
  plan: Schema.NullOr(Schema.Array(PlanItem)),
  /** codex's `thread/tokenUsage/updated` figures for the turn (`total`, `last`, ...). */
  tokenUsage: Schema.NullOr(UnknownRecord),
  commands: Schema.Array(CommandRun),
  fileChanges: Schema.Array(FileChange),
  /** codex's own details of a failed turn, when it gave any. */
  codexErrorInfo: Schema.optionalKey(Schema.Unknown),
  /** The final message parsed, for a run that asked for structured output (`outputSchema`). */
  output: Schema.optionalKey(Schema.Unknown),
  /** A review run's review, as codex gave it when it left review mode. */
  review: Schema.optionalKey(Schema.String),
})
export type RunResult = typeof RunResult.Type

const tail = (text: string): string =>
  text.length > OUTPUT_TAIL_CHARS ? text.slice(-OUTPUT_TAIL_CHARS) : text

const stringOr = (value: unknown, fallback: string | null): string | null =>
  typeof value === "string" ? value : fallback

export class RunResultBuilder {
  private threadId: string | null = null
  private turnId: string | null = null
  private turnStatus: string | null = null
  /** Agent message text by item id, in the order the items started; the last one is the final message. */
  private readonly messages = new Map<string, Array<string>>()
  private readonly completedMessages = new Map<string, string>()
  private diff: string | null = null
  private plan: RunResult["plan"] = null
  private tokenUsage: Record<string, unknown> | null = null
  private readonly commands = new Map<string, CommandRun>()
  private readonly fileChanges: Array<FileChange> = []
  private review: string | null = null

  /** Feed one event of this run's turn. Events of other turns must not be fed. */
  add(event: AppServerEvent): void {
    switch (event.type) {
      case "turn.started":
      case "turn.completed":
        this.threadId = event.threadId
        this.turnId = event.turn.id
        this.turnStatus = event.turn.status
        return
      case "turn.message.delta": {
        const chunks = this.messages.get(event.itemId)
        if (chunks === undefined) this.messages.set(event.itemId, [event.delta])
        else chunks.push(event.delta)
        return
      }
      case "turn.diff.updated":
        this.diff = event.diff
        return
      case "turn.plan.updated":
        this.plan = event.plan.map((p) => ({ step: p.step, status: p.status }))
        return
      case "thread.tokenUsage.updated":
        this.tokenUsage = event.tokenUsage
        return
      case "item.completed":
        this.addCompletedItem(event.item)
        return
      default:
        return
    }
  }

  private addCompletedItem(
    item: Record<string, unknown> & { readonly type: string; readonly id: string },
  ): void {
    if (item.type === "agentMessage") {
      const text = stringOr(item.text, null)
      if (text !== null) {
        if (!this.messages.has(item.id)) this.messages.set(item.id, [])
        this.completedMessages.set(item.id, text)
      }
    } else if (item.type === "commandExecution") {
      this.commands.set(item.id, {
        itemId: item.id,
        command: stringOr(item.command, "") ?? "",
        exitCode: typeof item.exitCode === "number" ? item.exitCode : null,
        status: stringOr(item.status, null),
        outputTail: tail(stringOr(item.aggregatedOutput, "") ?? ""),
      })
    } else if (item.type === "exitedReviewMode") {
      this.review = stringOr(item.review, this.review)
    } else if (item.type === "fileChange" && Array.isArray(item.changes)) {
      for (const change of item.changes as ReadonlyArray<Record<string, unknown>>) {
        this.fileChanges.push({
          path: stringOr(change.path, "") ?? "",
          kind: change.kind ?? null,
          diff: stringOr(change.diff, "") ?? "",
        })
      }
    }
  }

  /** The final agent message: the completed text of the last message item, else its streamed deltas. */
  private finalMessage(): string | null {
    const ids = [...this.messages.keys()]
    const last = ids.at(-1)
    if (last === undefined) return null
    return this.completedMessages.get(last) ?? (this.messages.get(last) ?? []).join("")
  }

  result(): RunResult {
    return {
      threadId: this.threadId,
      turnId: this.turnId,
      turnStatus: this.turnStatus,
      finalMessage: this.finalMessage(),
      diff: this.diff,
      plan: this.plan,
      tokenUsage: this.tokenUsage,
      commands: [...this.commands.values()],
      fileChanges: [...this.fileChanges],
      ...(this.review === null ? {} : { review: this.review }),
    }
  }
}

/** One human line for `summary`. */
export const summarize = (
  result: RunResult,
  failure: { readonly code: string; readonly message: string } | null,
): string => {
  if (failure !== null) return `failed (${failure.code}): ${failure.message}`
  const parts = [
    result.finalMessage === null ? "completed with no message" : `completed: ${oneLine(result.finalMessage)}`,
  ]
  if (result.commands.length > 0)
    parts.push(`${result.commands.length} command${result.commands.length === 1 ? "" : "s"}`)
  if (result.fileChanges.length > 0)
    parts.push(`${result.fileChanges.length} file change${result.fileChanges.length === 1 ? "" : "s"}`)
  return parts.join("; ")
}

const oneLine = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat
}
