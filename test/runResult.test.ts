import { describe, expect, it } from "vitest"
import { type AppServerEvent, toAppServerEvent } from "../src/domain/appServer/events.ts"
import { OUTPUT_TAIL_CHARS, RunResultBuilder, summarize } from "../src/domain/runResult.ts"

const ev = (method: string, params: unknown): AppServerEvent => toAppServerEvent(method, params, 1)
const ref = { threadId: "thr", turnId: "turn" }

describe("RunResultBuilder", () => {
  it("folds a turn's events into the result", () => {
    const b = new RunResultBuilder()
    b.add(ev("turn/started", { threadId: "thr", turn: { id: "turn", status: "inProgress", items: [] } }))
    b.add(ev("item/agentMessage/delta", { ...ref, itemId: "m1", delta: "Let me " }))
    b.add(ev("item/agentMessage/delta", { ...ref, itemId: "m1", delta: "look." }))
    b.add(
      ev("item/completed", {
        ...ref,
        item: {
          type: "commandExecution",
          id: "c1",
          command: "ls",
          exitCode: 0,
          status: "completed",
          aggregatedOutput: "a\nb\n",
        },
      }),
    )
    b.add(
      ev("item/completed", {
        ...ref,
        item: {
          type: "fileChange",
          id: "f1",
          status: "completed",
          changes: [{ path: "x.txt", kind: { type: "add" }, diff: "+hi" }],
        },
      }),
    )
    b.add(ev("turn/diff/updated", { ...ref, diff: "diff --git a/x.txt b/x.txt" }))
    b.add(
      ev("turn/plan/updated", { ...ref, explanation: null, plan: [{ step: "look", status: "completed" }] }),
    )
    b.add(ev("thread/tokenUsage/updated", { ...ref, tokenUsage: { total: { totalTokens: 9 } } }))
    b.add(ev("item/agentMessage/delta", { ...ref, itemId: "m2", delta: "Done" }))
    b.add(ev("item/completed", { ...ref, item: { type: "agentMessage", id: "m2", text: "Done." } }))
    b.add(ev("turn/completed", { threadId: "thr", turn: { id: "turn", status: "completed", items: [] } }))
    const result = b.result()
    expect(result).toEqual({
      threadId: "thr",
      turnId: "turn",
      turnStatus: "completed",
      finalMessage: "Done.",
      diff: "diff --git a/x.txt b/x.txt",
      plan: [{ step: "look", status: "completed" }],
      tokenUsage: { total: { totalTokens: 9 } },
      commands: [{ itemId: "c1", command: "ls", exitCode: 0, status: "completed", outputTail: "a\nb\n" }],
      fileChanges: [{ path: "x.txt", kind: { type: "add" }, diff: "+hi" }],
    })
    expect(summarize(result, null)).toBe("completed: Done.; 1 command; 1 file change")
  })

  it("uses streamed deltas when the message item never completed, and keeps only an output tail", () => {
    const b = new RunResultBuilder()
    b.add(ev("item/agentMessage/delta", { ...ref, itemId: "m1", delta: "partial " }))
    b.add(ev("item/agentMessage/delta", { ...ref, itemId: "m1", delta: "answer" }))
    b.add(
      ev("item/completed", {
        ...ref,
        item: {
          type: "commandExecution",
          id: "c1",
          command: "yes",
          exitCode: null,
          status: "failed",
          aggregatedOutput: "y\n".repeat(10_000),
        },
      }),
    )
    const result = b.result()
    expect(result.finalMessage).toBe("partial answer")
    expect(result.commands[0]?.outputTail.length).toBe(OUTPUT_TAIL_CHARS)
    expect(summarize(result, { code: "stalled", message: "no event" })).toBe("failed (stalled): no event")
  })
})
