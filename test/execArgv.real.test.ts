/**
 * The exec argv and line translation against the pinned `codex exec --json`, offline, with the
 * loopback model mock: the flags are the ones codex accepts, its lines fold into a run result, and a
 * second run resumes the first one's exec thread.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { execa } from "execa"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { toAppServerEvent } from "../src/domain/appServer/events.ts"
import { type ExecRunSpec, execArgv } from "../src/domain/exec/execArgv.ts"
import { makeExecTranslator } from "../src/domain/exec/execTranslation.ts"
import { RunResultBuilder } from "../src/domain/runResult.ts"
import { type CodexHome, makeCodexHome } from "./support/codexHome.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { codexBinary } from "./support/realCodex.ts"
import { makeTempDir } from "./support/tempConfig.ts"

let mock: MockResponsesApi
let home: CodexHome
const work = makeTempDir("codexd-exec-real-")

beforeAll(async () => {
  mock = await startMockResponsesApi()
  home = makeCodexHome(`${mock.baseUrl}/v1`)
})

afterAll(async () => {
  home.cleanup()
  work.cleanup()
  await mock.close()
})

const execRun = async (spec: Partial<ExecRunSpec> & { prompt: string }) => {
  const argv = execArgv({
    cwd: work.path,
    sandbox: "danger-full-access",
    model: null,
    config: [["approval_policy", '"never"']],
    images: [],
    outputSchemaPath: null,
    skipGitRepoCheck: true,
    resumeThreadId: null,
    ...spec,
  })
  const run = await execa(codexBinary(), argv, {
    env: home.env,
    extendEnv: true,
    stdin: "ignore",
    reject: false,
    timeout: 60_000,
  })
  const translator = makeExecTranslator("exec-turn")
  const builder = new RunResultBuilder()
  const malformed: Array<string> = []
  for (const line of run.stdout.split("\n").filter((l) => l.trim() !== "")) {
    const out = translator.translate(line)
    if (out.kind === "malformed") malformed.push(line)
    else for (const n of out.notifications) builder.add(toAppServerEvent(n.method, n.params, null))
  }
  return { exitCode: run.exitCode, result: builder.result(), threadId: translator.threadId(), malformed }
}

describe("codex exec --json with the built argv", () => {
  it("runs a command and answers; the lines fold into the run result; a second run resumes the thread", async () => {
    mock.enqueue({ kind: "exec", cmd: "echo from-exec" }, { kind: "text", deltas: ["Done: ", "it printed."] })
    const first = await execRun({ prompt: "print something" })
    expect(first.exitCode).toBe(0)
    expect(first.malformed).toEqual([])
    expect(first.threadId).not.toBeNull()
    expect(first.result).toMatchObject({
      turnStatus: "completed",
      finalMessage: "Done: it printed.",
      commands: [{ exitCode: 0, status: "completed", outputTail: "from-exec\n" }],
      tokenUsage: { last: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) } },
    })

    mock.enqueue({ kind: "text", deltas: ["second answer"] })
    const second = await execRun({ prompt: "and again", resumeThreadId: first.threadId })
    expect(second.exitCode).toBe(0)
    expect(second.threadId).toBe(first.threadId)
    expect(second.result.finalMessage).toBe("second answer")
    // The resumed thread carried the first turn: the model saw the earlier prompt again.
    expect(JSON.stringify(mock.requests.at(-1))).toContain("print something")
  }, 60_000)

  it("ends a turn the model refuses as failed, with codex's message, and a non-zero exit", async () => {
    mock.enqueue({ kind: "httpError", status: 401, body: '{"error":{"message":"bad key"}}' })
    const failed = await execRun({ prompt: "refused" })
    expect(failed.exitCode).not.toBe(0)
    expect(failed.result.turnStatus).toBe("failed")
  }, 60_000)

  it("sends images and the output schema, on a first run and on a resumed one", async () => {
    // A 1×1 PNG: codex reads and re-encodes an image before it sends it.
    const image = join(work.path, "pixel.png")
    writeFileSync(
      image,
      Buffer.from(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
        "base64",
      ),
    )
    const schemaPath = join(work.path, "schema.json")
    writeFileSync(
      schemaPath,
      JSON.stringify({
        type: "object",
        properties: { seen: { type: "string" } },
        required: ["seen"],
        additionalProperties: false,
      }),
    )
    mock.enqueue(
      { kind: "text", deltas: ['{"seen":"a pixel"}'] },
      { kind: "text", deltas: ['{"seen":"again"}'] },
    )
    const first = await execRun({ prompt: "what is it?", images: [image], outputSchemaPath: schemaPath })
    expect(first.exitCode).toBe(0)
    expect(first.result.finalMessage).toBe('{"seen":"a pixel"}')
    const sent = JSON.stringify(mock.requests.at(-1))
    expect(sent).toContain('"type":"input_image"')
    expect(JSON.stringify(mock.requests.at(-1)?.text)).toContain('"seen"')

    const second = await execRun({
      prompt: "and now?",
      images: [image],
      outputSchemaPath: schemaPath,
      resumeThreadId: first.threadId,
    })
    expect(second.exitCode).toBe(0)
    expect(second.threadId).toBe(first.threadId)
    expect(JSON.stringify(mock.requests.at(-1)?.text)).toContain('"seen"')
  }, 60_000)
})
