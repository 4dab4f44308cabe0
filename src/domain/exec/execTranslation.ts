/**
 * Exec mode speaks app-server: each JSON line of `codex exec --json` becomes the app-server
 * notifications that say the same thing, so a run in exec mode is folded into the same result and
 * recorded as the same events as in app-server mode. Pure; one translator per exec process.
 *
 * Exec has no turn ids: the translator names the process's single turn (`turnId`, given by the caller).
 * Exec item types are snake_case (`agent_message`, `command_execution`, `file_change`, `todo_list`,
 * `error`); their fields are renamed to the app-server's camelCase items.
 */

export interface Notification {
  readonly method: string
  readonly params: Record<string, unknown>
}

export interface ExecTranslator {
  /** The notifications one stdout line stands for; a line that is not exec JSON is `malformed`. */
  readonly translate: (line: string) => ExecLine
  /** The exec thread, once `thread.started` was seen. */
  readonly threadId: () => string | null
}

export type ExecLine =
  | { readonly kind: "notifications"; readonly notifications: ReadonlyArray<Notification> }
  | { readonly kind: "malformed"; readonly reason: string }

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null)

const STATUS: Readonly<Record<string, string>> = { in_progress: "inProgress" }
const statusOf = (value: unknown): string | null => {
  const raw = text(value)
  return raw === null ? null : (STATUS[raw] ?? raw)
}

/** An exec item as the app-server's item of the same kind. */
export const appServerItemOf = (item: Record<string, unknown>): Record<string, unknown> => {
  const id = text(item.id) ?? ""
  switch (item.type) {
    case "agent_message":
      return { type: "agentMessage", id, text: text(item.text) ?? "" }
    case "reasoning":
      return { type: "reasoning", id, summary: text(item.text) === null ? [] : [item.text], content: [] }
    case "command_execution":
      return {
        type: "commandExecution",
        id,
        command: text(item.command) ?? "",
        aggregatedOutput: text(item.aggregated_output),
        exitCode: typeof item.exit_code === "number" ? item.exit_code : null,
        status: statusOf(item.status),
      }
    case "file_change":
      return {
        type: "fileChange",
        id,
        status: statusOf(item.status),
        changes: (Array.isArray(item.changes) ? item.changes : []).map((change) => {
          const c = asRecord(change)
          return { path: text(c.path) ?? "", kind: c.kind ?? null, diff: text(c.diff) ?? "" }
        }),
      }
    default:
      // Anything else keeps its exec shape under its exec type: recorded, not interpreted.
      return { ...item, type: String(item.type ?? "unknown"), id }
  }
}

const count = (value: unknown): number => (typeof value === "number" ? value : 0)

/**
 * Exec's usage of its one turn (`input_tokens`, …) in the app-server's shape: the turn's usage is
 * both the last and, for this process, the total.
 */
export const appServerTokenUsageOf = (usage: Record<string, unknown>): Record<string, unknown> => {
  const input = count(usage.input_tokens)
  const output = count(usage.output_tokens)
  const breakdown = {
    totalTokens: input + output,
    inputTokens: input,
    cachedInputTokens: count(usage.cached_input_tokens),
    outputTokens: output,
    reasoningOutputTokens: count(usage.reasoning_output_tokens),
  }
  return { total: breakdown, last: breakdown }
}

export const makeExecTranslator = (turnId: string): ExecTranslator => {
  let threadId: string | null = null
  const turnRef = () => ({ threadId: threadId ?? "", turnId })
  const turn = (status: string, error: unknown = null) => ({
    threadId: threadId ?? "",
    turn: { id: turnId, status, error, items: [] },
  })

  const fromItem = (method: string, item: Record<string, unknown>): ReadonlyArray<Notification> => {
    // An `error` item is a warning codex carried on (e.g. no metadata for the model): not the turn's end.
    if (item.type === "error")
      return [{ method: "warning", params: { ...turnRef(), message: text(item.message) ?? "" } }]
    if (item.type === "todo_list") {
      const plan = (Array.isArray(item.items) ? item.items : []).map((entry) => {
        const e = asRecord(entry)
        return { step: text(e.text) ?? "", status: e.completed === true ? "completed" : "pending" }
      })
      return [{ method: "turn/plan/updated", params: { ...turnRef(), plan } }]
    }
    return [{ method, params: { ...turnRef(), item: appServerItemOf(item) } }]
  }

  const translate = (line: string): ExecLine => {
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      return { kind: "malformed", reason: "not JSON" }
    }
    const event = asRecord(parsed)
    const notifications = (list: ReadonlyArray<Notification>): ExecLine => ({
      kind: "notifications",
      notifications: list,
    })
    switch (event.type) {
      case "thread.started": {
        const started = text(event.thread_id)
        if (started === null) return { kind: "malformed", reason: "thread.started without a thread_id" }
        threadId = started
        return notifications([{ method: "thread/started", params: { thread: { id: started } } }])
      }
      case "turn.started":
        return notifications([{ method: "turn/started", params: turn("inProgress") }])
      case "item.started":
        return notifications(fromItem("item/started", asRecord(event.item)))
      case "item.updated": {
        // Only a plan says something new when it is updated; other items are told again at completion.
        const item = asRecord(event.item)
        return notifications(item.type === "todo_list" ? fromItem("item/started", item) : [])
      }
      case "item.completed":
        return notifications(fromItem("item/completed", asRecord(event.item)))
      case "turn.completed":
        return notifications([
          {
            method: "thread/tokenUsage/updated",
            params: { ...turnRef(), tokenUsage: appServerTokenUsageOf(asRecord(event.usage)) },
          },
          { method: "turn/completed", params: turn("completed") },
        ])
      case "turn.failed": {
        const message = text(asRecord(event.error).message) ?? "the turn failed"
        return notifications([
          { method: "turn/completed", params: turn("failed", { message, codexErrorInfo: null }) },
        ])
      }
      case "error":
        return notifications([
          {
            method: "error",
            params: { ...turnRef(), error: { message: text(event.message) ?? "" }, willRetry: false },
          },
        ])
      default:
        return { kind: "malformed", reason: `unknown exec event type ${JSON.stringify(event.type ?? null)}` }
    }
  }
  return { translate, threadId: () => threadId }
}
