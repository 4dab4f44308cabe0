/** Exec mode's pure pieces: the argv of `codex exec --json`, and its JSON lines as app-server events. */
import { describe, expect, it } from "vitest"
import { toAppServerEvent } from "../src/domain/appServer/events.ts"
import { type ExecRunSpec, execArgv } from "../src/domain/exec/execArgv.ts"
import { makeExecTranslator } from "../src/domain/exec/execTranslation.ts"
import { RunResultBuilder } from "../src/domain/runResult.ts"

const bare: ExecRunSpec = {
  prompt: "hello",
  cwd: null,
  sandbox: null,
  model: null,
  config: [],
  images: [],
  outputSchemaPath: null,
  skipGitRepoCheck: false,
  resumeThreadId: null,
}

describe("execArgv", () => {
  it("is exec --json, then the prompt after --", () => {
    expect(execArgv(bare)).toEqual(["exec", "--json", "--", "hello"])
    expect(execArgv({ ...bare, prompt: "--version" }).slice(-2)).toEqual(["--", "--version"])
  })

  it("names each option's flag beside it", () => {
    expect(execArgv({ ...bare, cwd: "/srv/repo" })).toContain("--cd")
    expect(execArgv({ ...bare, cwd: "/srv/repo" }).slice(2, 4)).toEqual(["--cd", "/srv/repo"])
    expect(execArgv({ ...bare, sandbox: "read-only" }).slice(2, 4)).toEqual(["--sandbox", "read-only"])
    expect(execArgv({ ...bare, model: "gpt-5" }).slice(2, 4)).toEqual(["--model", "gpt-5"])
    expect(
      execArgv({
        ...bare,
        config: [
          ["model_reasoning_effort", '"high"'],
          ["approval_policy", '"never"'],
        ],
      }).slice(2, 6),
    ).toEqual(["--config", 'model_reasoning_effort="high"', "--config", 'approval_policy="never"'])
    expect(execArgv({ ...bare, skipGitRepoCheck: true }).slice(2, 3)).toEqual(["--skip-git-repo-check"])
  })

  it("resumes a session's exec thread with the options before `resume`", () => {
    expect(execArgv({ ...bare, cwd: "/w", skipGitRepoCheck: true, resumeThreadId: "t-1" })).toEqual([
      "exec",
      "--json",
      "--cd",
      "/w",
      "--skip-git-repo-check",
      "resume",
      "t-1",
      "--",
      "hello",
    ])
  })
})

/** Lines as the pinned codex 0.169.0 writes them (captured against the loopback model mock). */
const completedRun = [
  '{"type":"thread.started","thread_id":"thread-1"}',
  '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `mock-model` not found."}}',
  '{"type":"turn.started"}',
  '{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -c \'echo hi\'","aggregated_output":"","exit_code":null,"status":"in_progress"}}',
  '{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -c \'echo hi\'","aggregated_output":"hi\\n","exit_code":0,"status":"completed"}}',
  '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Hello there"}}',
  '{"type":"turn.completed","usage":{"input_tokens":24,"cached_input_tokens":0,"output_tokens":14}}',
]

const fold = (lines: ReadonlyArray<string>) => {
  const translator = makeExecTranslator("exec-turn-1")
  const builder = new RunResultBuilder()
  const events = lines.flatMap((line) => {
    const out = translator.translate(line)
    if (out.kind === "malformed") throw new Error(out.reason)
    return out.notifications.map((n) => toAppServerEvent(n.method, n.params, null))
  })
  for (const event of events) builder.add(event)
  return { events, result: builder.result(), threadId: translator.threadId() }
}

describe("exec lines as app-server events", () => {
  it("fold into the same run result as app-server mode", () => {
    const { events, result, threadId } = fold(completedRun)
    expect(threadId).toBe("thread-1")
    // Every translated notification decodes as the typed app-server event it stands for.
    expect(events.map((e) => e.type)).toEqual([
      "thread.started",
      "warning",
      "turn.started",
      "item.started",
      "item.completed",
      "item.completed",
      "thread.tokenUsage.updated",
      "turn.completed",
    ])
    expect(events[1]).toMatchObject({ threadId: "thread-1", message: expect.stringMatching(/metadata/) })
    expect(events.some((e) => "decodeError" in e)).toBe(false)
    expect(result).toMatchObject({
      threadId: "thread-1",
      turnId: "exec-turn-1",
      turnStatus: "completed",
      finalMessage: "Hello there",
      tokenUsage: {
        last: {
          totalTokens: 38,
          inputTokens: 24,
          cachedInputTokens: 0,
          outputTokens: 14,
          reasoningOutputTokens: 0,
        },
      },
      commands: [
        {
          itemId: "item_1",
          command: "/bin/bash -c 'echo hi'",
          exitCode: 0,
          status: "completed",
          outputTail: "hi\n",
        },
      ],
    })
  })

  it("end a failed turn as failed, with codex's message", () => {
    const { events, result } = fold([
      '{"type":"thread.started","thread_id":"thread-2"}',
      '{"type":"turn.started"}',
      '{"type":"error","message":"unexpected status 401 Unauthorized: bad key"}',
      '{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: bad key"}}',
    ])
    expect(events.map((e) => e.type)).toEqual([
      "thread.started",
      "turn.started",
      "turn.error",
      "turn.completed",
    ])
    expect(events.at(-1)).toMatchObject({
      turn: { status: "failed", error: { message: expect.stringMatching(/401/) } },
    })
    expect(result.turnStatus).toBe("failed")
  })

  it("turn file changes and plans into their app-server shapes", () => {
    const { events, result } = fold([
      '{"type":"thread.started","thread_id":"t"}',
      '{"type":"item.updated","item":{"id":"p","type":"todo_list","items":[{"text":"read","completed":true},{"text":"write","completed":false}]}}',
      '{"type":"item.updated","item":{"id":"c","type":"command_execution","command":"ls","status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"f","type":"file_change","changes":[{"path":"a.txt","kind":"add"}],"status":"completed"}}',
    ])
    expect(events.map((e) => e.type)).toEqual(["thread.started", "turn.plan.updated", "item.completed"])
    expect(result.plan).toEqual([
      { step: "read", status: "completed" },
      { step: "write", status: "pending" },
    ])
    expect(result.fileChanges).toEqual([{ path: "a.txt", kind: "add", diff: "" }])
  })

  it("call a line that is not exec JSON malformed, without losing the translator's state", () => {
    const translator = makeExecTranslator("x")
    translator.translate('{"type":"thread.started","thread_id":"t-9"}')
    expect(translator.translate("Reading additional input from stdin...")).toEqual({
      kind: "malformed",
      reason: "not JSON",
    })
    expect(translator.translate('{"type":"mystery"}')).toMatchObject({ kind: "malformed" })
    expect(translator.translate('{"type":"thread.started"}')).toMatchObject({ kind: "malformed" })
    expect(translator.threadId()).toBe("t-9")
  })
})
