/**
 * What a run can ask of codex beyond its prompt, against the real pinned codex and the loopback
 * model mock: structured output, images, model and sandbox overrides, session instructions. What
 * reached codex is read in the protocol log (the `turn/start` parameters) and what reached the
 * model in the mock's request log.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { withDaemonServices } from "./support/daemonHarness.ts"
import type { MockResponsesApi } from "./support/mockResponsesApi.ts"
import { useModelInEnv } from "./support/modelInEnv.ts"

const model = useModelInEnv()
let mock: MockResponsesApi
beforeAll(() => {
  mock = model.mock()
})

const realDaemon = () => model.realConfig("codexd-run-options-", { protocolLog: "true" })

/** The params of every `turn/start` codexd sent, from the protocol log. */
const turnStarts = (stdoutLogPath: string): Array<Record<string, unknown>> =>
  readFileSync(stdoutLogPath, "utf8")
    .split("\n")
    .filter((line) => line.includes('"method":"turn/start"'))
    .map((line) => (JSON.parse(line.slice(line.indexOf("{"))) as { params: Record<string, unknown> }).params)

const answerSchema = {
  type: "object",
  properties: { answer: { type: "string" }, confidence: { type: "number" } },
  required: ["answer", "confidence"],
  additionalProperties: false,
}

// A 1×1 PNG: codex reads and re-encodes an image before it sends it, so it has to be a real one.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
)

describe("run options with the real codex", () => {
  it("parses structured output into result.output, and fails a message that does not match", async () => {
    const config = realDaemon()
    await withDaemonServices(config, async (d) => {
      mock.enqueue({ kind: "text", deltas: ['{"answer":"forty-two",', '"confidence":0.9}'] })
      const asked = await d.run(
        d.runs.submit({ prompt: "answer in JSON", options: { outputSchema: answerSchema } }),
      )
      const done = await d.finished(asked.runId)
      expect(done.status).toBe("completed")
      expect(done.result?.output).toEqual({ answer: "forty-two", confidence: 0.9 })
      expect(done.options?.outputSchema).toEqual(answerSchema)
      // codex passed the schema on to the model as the response format.
      expect(JSON.stringify(mock.requests.at(-1)?.text)).toContain('"confidence"')
      expect(turnStarts(config.paths.stdoutLogPath).at(-1)?.outputSchema).toEqual(answerSchema)

      mock.enqueue({ kind: "text", deltas: ['{"answer":42,"confidence":1}'] })
      const wrong = await d.run(d.runs.submit({ prompt: "again", options: { outputSchema: answerSchema } }))
      const failed = await d.finished(wrong.runId)
      expect(failed.status).toBe("failed")
      expect(failed.errorCode).toBe("output-invalid")
      expect(failed.error).toBe("the final message does not match the output schema: /answer must be string")
      expect(failed.result?.finalMessage).toBe('{"answer":42,"confidence":1}')

      mock.enqueue({ kind: "text", deltas: ["not json at all"] })
      const prose = await d.run(d.runs.submit({ prompt: "prose", options: { outputSchema: answerSchema } }))
      expect((await d.finished(prose.runId)).error).toBe(
        "the final message is not JSON, as the output schema asks",
      )
    })
  }, 120_000)

  it("sends an image with the prompt, and refuses one that is not there", async () => {
    const config = realDaemon()
    // In the project directory, beside (not inside) the state directory the daemon creates.
    const image = join(config.paths.stateDir, "..", "..", "pixel.png")
    writeFileSync(image, PNG)
    await withDaemonServices(config, async (d) => {
      mock.enqueue({ kind: "text", deltas: ["a single pixel"] })
      const run = await d.run(
        d.runs.submit({ prompt: "what is this?", options: { images: [{ path: image }] } }),
      )
      expect((await d.finished(run.runId)).status).toBe("completed")
      const sent = JSON.stringify(mock.requests.at(-1))
      expect(sent).toContain('"type":"input_image"')
      expect(sent).toContain("data:image/png;base64,")
      expect(turnStarts(config.paths.stdoutLogPath).at(-1)?.input).toEqual([
        { type: "text", text: "what is this?", text_elements: [] },
        { type: "localImage", path: image },
      ])

      const missing = await d
        .run(d.runs.submit({ prompt: "and this?", options: { images: [{ path: `${image}.gone` }] } }))
        .catch((error: unknown) => error)
      expect(missing).toMatchObject({
        _tag: "InvalidOptionError",
        option: "images[0].path",
        reason: "no such file",
      })
      const relative = await d
        .run(d.runs.submit({ prompt: "and this?", options: { images: [{ path: "pixel.png" }] } }))
        .catch((error: unknown) => error)
      expect(relative).toMatchObject({ option: "images[0].path", reason: "must be an absolute path" })
    })
  }, 120_000)

  it("overrides model, effort and sandbox for one run; the next run is back on its session's", async () => {
    const config = realDaemon()
    await withDaemonServices(config, async (d) => {
      const session = await d.run(
        d.sessions.create({
          purpose: "duplex",
          model: "mock-model",
          sandbox: "read-only",
          approvalPolicy: "never",
          developerInstructions: "Always answer in haiku.",
        }),
      )
      mock.enqueue({ kind: "text", deltas: ["overridden"] }, { kind: "text", deltas: ["as before"] })
      const first = await d.run(
        d.runs.submit({
          prompt: "first",
          sessionId: session.sessionId,
          options: {
            model: "mock-model-large",
            reasoningEffort: "high",
            sandbox: "workspace-write",
            sandboxPolicy: { writableRoots: ["/tmp"], networkAccess: true },
          },
        }),
      )
      expect((await d.finished(first.runId)).status).toBe("completed")
      const overridden = mock.requests.at(-1) as Record<string, unknown>
      const second = await d.run(d.runs.submit({ prompt: "second", sessionId: session.sessionId }))
      expect((await d.finished(second.runId)).status).toBe("completed")
      const back = mock.requests.at(-1) as Record<string, unknown>

      expect(overridden.model).toBe("mock-model-large")
      expect(overridden.reasoning).toMatchObject({ effort: "high" })
      expect(back.model).toBe("mock-model")
      // The session's developer instructions reach the model on every turn.
      expect(JSON.stringify(overridden)).toContain("Always answer in haiku.")
      expect(JSON.stringify(back)).toContain("Always answer in haiku.")

      const [turn1, turn2] = turnStarts(config.paths.stdoutLogPath).slice(-2)
      expect(turn1).toMatchObject({
        model: "mock-model-large",
        effort: "high",
        approvalPolicy: "never",
        sandboxPolicy: { type: "workspaceWrite", writableRoots: ["/tmp"], networkAccess: true },
      })
      expect(turn2).toMatchObject({
        model: "mock-model",
        approvalPolicy: "never",
        sandboxPolicy: { type: "readOnly", networkAccess: false },
      })
    })
  }, 120_000)

  it("keeps codex's rate-limit windows in the daemon state, from the headers of the model's answers", async () => {
    const config = realDaemon()
    await withDaemonServices(config, async (d) => {
      const resetAt = Math.floor(Date.now() / 1000) + 3_600
      mock.enqueue({
        kind: "text",
        deltas: ["limited"],
        headers: {
          "x-codex-primary-used-percent": "42",
          "x-codex-primary-window-minutes": "300",
          "x-codex-primary-reset-at": String(resetAt),
        },
      })
      const run = await d.run(d.runs.submit({ prompt: "count me" }))
      expect((await d.finished(run.runId)).status).toBe("completed")
      const until = Date.now() + 20_000
      let limits: Record<string, unknown> | null | undefined
      while (Date.now() < until) {
        limits = (await d.run(d.store.daemonState))?.rateLimits
        if (limits != null) break
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(limits).toMatchObject({
        primary: { usedPercent: 42, windowDurationMins: 300, resetsAt: resetAt },
      })
    })
  }, 120_000)
})
