/** The local API of a real `codexd start` process supervising the fake app-server in codex-like mode. */

import { readFileSync, statSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { join } from "node:path"
import { Validator } from "@seriousme/openapi-schema-validator"
import { Ajv2020 } from "ajv/dist/2020.js"
import { Effect } from "effect"
import { execa } from "execa"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ApprovalRegistryState } from "../src/domain/approval.ts"
import { decodeJsonText } from "../src/domain/decode.ts"
import type { RecentEvent } from "../src/domain/event.ts"
import { readStatus } from "../src/services/status/statusSnapshot.ts"
import { type ApiAccess, apiAccess } from "./support/apiClient.ts"
import { codexdBin, runCodexd } from "./support/cli.ts"
import { fakeDaemonConfig } from "./support/daemonHarness.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { waitForText } from "./support/supervisorHarness.ts"
import { makeTempDir } from "./support/tempConfig.ts"

let daemon: DaemonProcess
let api: ApiAccess
const temp = makeTempDir("codexd-api-")
const config = fakeDaemonConfig(temp.path)

beforeAll(async () => {
  writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
  daemon = startDaemonProcess(
    [],
    {
      CODEXD_CHILD_COMMAND: process.execPath,
      CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", temp.path]),
      CODEXD_APPROVALS: "ask",
    },
    temp.path,
  )
  await daemon.waitForOutput(/codexd ready: .* api http:\/\/127\.0\.0\.1:\d+/)
  api = apiAccess(config)
}, 60_000)

afterAll(async () => {
  await daemon?.stop()
  temp.cleanup()
})

const waitForRun = async (runId: string, statuses = ["completed", "failed"]) => {
  const until = Date.now() + 20_000
  for (;;) {
    const { json } = await api.call("GET", `/v1/runs/${runId}`)
    if (statuses.includes(String(json.status))) return json
    if (Date.now() > until) throw new Error(`run ${runId} stayed ${String(json.status)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A raw request, so the Host header can be anything. */
interface OpenApiOperation {
  readonly responses: Record<
    string,
    { readonly content?: Record<string, { readonly schema?: unknown }> } | undefined
  >
}

const rawGet = (path: string, headers: Record<string, string>) =>
  new Promise<number>((resolve, reject) => {
    const url = new URL(api.base)
    const req = request({ host: url.hostname, port: url.port, path, headers, setHost: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on("error", reject)
    req.end()
  })

describe("local API", () => {
  it("keeps the token in a file only its owner can read, and answers /healthz without it", async () => {
    expect(statSync(config.paths.apiTokenPath).mode & 0o777).toBe(0o600)
    const health = await fetch(`${api.base}/healthz`)
    expect(health.status).toBe(200)
    expect(health.headers.get("access-control-allow-origin")).toBeNull()
  })

  it("refuses a missing or wrong token and a foreign Host", async () => {
    expect((await fetch(`${api.base}/v1/status`)).status).toBe(401)
    expect((await fetch(`${api.base}/v1/status`, { headers: { authorization: "Bearer nope" } })).status).toBe(
      401,
    )
    const port = new URL(api.base).port
    const auth = { authorization: `Bearer ${api.token}` }
    expect(await rawGet("/v1/status", { ...auth, host: `127.0.0.1:${port}` })).toBe(200)
    expect(await rawGet("/v1/status", { ...auth, host: `evil.example:${port}` })).toBe(421)
    expect(await rawGet("/healthz", { host: `evil.example:${port}` })).toBe(421)
  })

  it("serves the status snapshot and the OpenAPI description", async () => {
    const status = await api.call("GET", "/v1/status")
    expect(status.status).toBe(200)
    expect((status.json.daemon as { apiBase: string }).apiBase).toBe(api.base)
    const openapi = await api.call("GET", "/openapi.json")
    expect(Object.keys(openapi.json.paths as object)).toEqual(
      expect.arrayContaining(["/v1/runs", "/v1/runs/{id}/steer", "/v1/approvals/{id}", "/v1/events"]),
    )
    // A valid OpenAPI 3.1 document in which every operation describes its answers with a schema.
    expect(await new Validator().validate(openapi.json)).toEqual({ valid: true })
    const operations = Object.entries(
      openapi.json.paths as Record<string, Record<string, OpenApiOperation>>,
    ).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ route: `${method} ${path}`, op })),
    )
    expect(operations.length).toBeGreaterThanOrEqual(17)
    for (const { route, op } of operations) {
      const ok = op.responses["2XX"]?.content ?? {}
      const [type, media] = Object.entries(ok)[0] ?? []
      expect(type, route).toBeDefined()
      if (type === "application/json") expect(media?.schema, route).toBeDefined()
      expect(op.responses["4XX"]?.content?.["application/json"]?.schema, route).toBeDefined()
    }
    // The status answer is what its schema says, checked by a JSON Schema validator.
    const statusSchema = operations.find((o) => o.route === "get /v1/status")?.op.responses["2XX"]?.content?.[
      "application/json"
    ]?.schema as object
    const validate = new Ajv2020({ strict: false }).compile(statusSchema)
    expect(validate(status.json), JSON.stringify(validate.errors)).toBe(true)

    // The page for people: served without a token (a browser has none), nothing that runs in it.
    const docs = await fetch(`${api.base}/docs`)
    expect(docs.status).toBe(200)
    expect(docs.headers.get("content-type")).toBe("text/html; charset=utf-8")
    expect(docs.headers.get("content-security-policy")).toContain("default-src 'none'")
    const page = await docs.text()
    expect(page).toContain("<code>/v1/runs/{id}/steer</code>")
    expect(page).not.toContain("<script")
  })

  it("creates a session, runs a prompt in it, and reads both back", async () => {
    const created = await api.call("POST", "/v1/sessions", {
      body: { purpose: "duplex", approvals: "auto-accept" },
    })
    expect(created.status).toBe(201)
    const sessionId = String(created.json.sessionId)
    expect(String(created.json.threadId)).toMatch(/^thread-/)
    const submitted = await api.call("POST", "/v1/runs", { body: { prompt: "approve ls", sessionId } })
    expect(submitted.status).toBe(202)
    expect(submitted.json.status).toBe("queued")
    const run = await waitForRun(String(submitted.json.runId))
    expect(run.status).toBe("completed")
    expect(run.summary).toBe("completed: ran ls; 1 command")
    expect((await api.call("GET", `/v1/sessions/${sessionId}`)).json.lastTurnStatus).toBe("completed")
    const listed = await api.call("GET", "/v1/runs")
    expect((listed.json.runs as Array<{ runId: string }>).some((r) => r.runId === run.runId)).toBe(true)
    expect((await api.call("POST", `/v1/sessions/${sessionId}/close`)).json.status).toBe("closed")
    const refused = await api.call("POST", "/v1/runs", { body: { prompt: "more", sessionId } })
    expect(refused.status).toBe(409)
  })

  it("interrupts, steers and answers approvals", async () => {
    const hang = await api.call("POST", "/v1/runs", { body: { prompt: "hang" } })
    await waitForRun(String(hang.json.runId), ["running"])
    await new Promise((r) => setTimeout(r, 100))
    expect(
      (await api.call("POST", `/v1/runs/${hang.json.runId}/steer`, { body: { text: "stop now" } })).status,
    ).toBe(202)
    expect((await waitForRun(String(hang.json.runId))).summary).toBe("completed: steered: stop now")

    const asking = await api.call("POST", "/v1/runs", { body: { prompt: "approve make" } })
    let pending: Array<{ approvalId: string; runId: string; status: string }> = []
    const until = Date.now() + 10_000
    while (!pending.some((a) => a.runId === asking.json.runId && a.status === "pending")) {
      if (Date.now() > until) throw new Error("no pending approval")
      pending = (await api.call("GET", "/v1/approvals")).json.approvals as typeof pending
      await new Promise((r) => setTimeout(r, 20))
    }
    const approval = pending.find((a) => a.runId === asking.json.runId) as (typeof pending)[number]
    const bad = await api.call("POST", `/v1/approvals/${approval.approvalId}`, {
      body: { decision: "maybe" },
    })
    expect(bad.status).toBe(400)
    expect(String((bad.json.error as { message: string }).message)).toContain("decision")
    const answered = await api.call("POST", `/v1/approvals/${approval.approvalId}`, {
      body: { decision: "decline" },
    })
    expect(answered.json.status).toBe("answered")
    expect((await waitForRun(String(asking.json.runId))).summary).toBe("completed: not allowed to run make")
    expect(
      (await api.call("POST", `/v1/approvals/${approval.approvalId}`, { body: { decision: "accept" } }))
        .status,
    ).toBe(409)

    const stuck = await api.call("POST", "/v1/runs", { body: { prompt: "hang" } })
    await waitForRun(String(stuck.json.runId), ["running"])
    await new Promise((r) => setTimeout(r, 100))
    expect((await api.call("POST", `/v1/runs/${stuck.json.runId}/interrupt`)).status).toBe(202)
    expect((await waitForRun(String(stuck.json.runId))).errorCode).toBe("interrupted")
  })

  it("answers bad requests with a JSON error naming what is wrong", async () => {
    const missing = await api.call("POST", "/v1/runs", { body: { sessionId: null } })
    expect(missing.status).toBe(400)
    expect((missing.json.error as { code: string; message: string }).message).toContain("prompt")
    expect((await api.call("POST", "/v1/runs", { rawBody: "{not json" })).status).toBe(400)
    expect((await api.call("GET", "/v1/runs/run_nope")).status).toBe(404)
    expect((await api.call("GET", "/v1/sessions/session_nope")).status).toBe(404)
    expect(
      (await api.call("POST", "/v1/approvals/approval_nope", { body: { decision: "accept" } })).status,
    ).toBe(404)
    expect((await api.call("GET", "/v1/nothing")).status).toBe(404)
    expect((await api.call("DELETE", "/v1/runs")).status).toBe(405)
    expect(
      (
        await api.call("POST", "/v1/runs", {
          rawBody: JSON.stringify({ prompt: "x".repeat(1024 * 1024 + 10) }),
        })
      ).status,
    ).toBe(413)
  })

  it("never answers random bodies with a 5xx, and the state files still decode", async () => {
    const posts = ["/v1/sessions", "/v1/runs", "/v1/runs/run_x/steer", "/v1/approvals/approval_x"]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...posts), fc.jsonValue(), async (path, body) => {
        // A body that happens to be a valid run would just run; prompts starting with "hang" would wait.
        const { status } = await api.call("POST", path, { body })
        expect(status).toBeLessThan(500)
      }),
      { numRuns: 60 },
    )
    const approvals = config.paths.approvalRegistryPath
    expect(decodeJsonText(ApprovalRegistryState, approvals)(readFileSync(approvals, "utf8"))._tag).toBe(
      "Success",
    )
    // The registries (snapshots and journals) as `codexd status` reads them while the daemon runs.
    const status = await Effect.runPromise(readStatus(config))
    expect(status.corruptFiles).toEqual([])
    expect(status.snapshot?.runRegistry.runs.length).toBeGreaterThan(0)
  })

  it("codexd run shows an approval with the decisions codex offers; Ctrl-C leaves the run, twice interrupts it", async () => {
    const follow = (prompt: string) =>
      execa(process.execPath, [codexdBin, "run", prompt], { cwd: temp.path, reject: false, all: false })
    const asking = follow("approve rm -rf /tmp/nothing")
    let stderr = ""
    asking.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    await waitForText(() => stderr, "answer with: codexd approve")
    expect(stderr).toMatch(/approval asked: .*rm -rf \/tmp\/nothing/)
    expect(stderr).toMatch(/--decision \S*accept\S*decline/)
    const approvalId = /codexd approve (\S+)/.exec(stderr)?.[1] as string
    await api.call("POST", `/v1/approvals/${approvalId}`, { body: { decision: "accept" } })
    const asked = await asking
    expect(asked.exitCode).toBe(0)
    // The command it ran, with its exit code, on its own line; the answer on stdout.
    expect(stderr).toMatch(/\n {2}exit 0\n/)
    expect(asked.stdout).toContain("ran rm -rf /tmp/nothing")

    // Once: the run goes on without this command (exit 130).
    const hanging = follow("hang")
    let said = ""
    hanging.stderr?.on("data", (chunk: Buffer) => {
      said += chunk.toString("utf8")
    })
    await waitForText(() => said, "queued")
    const runId = /run (\S+) queued/.exec(said)?.[1] as string
    hanging.kill("SIGINT")
    const left = await hanging
    expect(left.exitCode).toBe(130)
    expect(said).toContain("the run goes on in the daemon")
    expect((await api.call("GET", `/v1/runs/${runId}`)).json.status).not.toMatch(/completed|failed/)
    await api.call("POST", `/v1/runs/${runId}/interrupt`)

    // Twice within 2 s: interrupted, and the command follows it to its end (exit 1).
    const twice = follow("hang")
    let told = ""
    twice.stderr?.on("data", (chunk: Buffer) => {
      told += chunk.toString("utf8")
    })
    await waitForText(() => told, "queued")
    twice.kill("SIGINT")
    await waitForText(() => told, "Ctrl-C again")
    twice.kill("SIGINT")
    const stopped = await twice
    expect(told).toContain("interrupting run")
    expect(stopped.exitCode).toBe(1)
  }, 60_000)

  it("codexd sessions new/close and ids shortened to a unique prefix", async () => {
    const cli = (...args: Array<string>) => runCodexd(args, { cwd: temp.path })
    const created = await cli(
      "sessions",
      "new",
      "--purpose",
      "worker",
      "--approvals",
      "auto-decline",
      "--json",
    )
    expect(created.exitCode).toBe(0)
    const session = JSON.parse(created.stdout) as { sessionId: string; purpose: string; approvals: string }
    expect(session).toMatchObject({ purpose: "worker", approvals: "auto-decline" })
    const run = await api.call("POST", "/v1/runs", { body: { prompt: "hi", sessionId: session.sessionId } })
    const runId = String(run.json.runId)
    await waitForRun(runId)
    // A prefix long enough to be unique among the runs finds the run.
    const shown = await cli("runs", runId.slice(0, -3), "--json")
    expect(shown.exitCode).toBe(0)
    expect((JSON.parse(shown.stdout) as { runId: string }).runId).toBe(runId)
    const detail = await cli("runs", runId.slice(0, -3))
    expect(detail.stdout).toMatch(/^status {4}completed$/m)
    expect(detail.stdout).toMatch(/^tokens {4}\d/m)
    expect(detail.stdout).toContain("final message:\n  echo: hi")
    const ambiguous = await cli("runs", "run_")
    expect(ambiguous.exitCode).toBe(2)
    expect(ambiguous.stderr).toMatch(/^codexd runs: run_ names \d+ runs .*give more of it/)
    const closed = await cli("sessions", "close", session.sessionId.slice(0, -2), "--json")
    expect(closed.exitCode).toBe(0)
    expect(JSON.parse(closed.stdout)).toMatchObject({ sessionId: session.sessionId, status: "closed" })
    expect((await cli("sessions", "open")).exitCode).toBe(2)
    expect((await cli("sessions", "close")).exitCode).toBe(2)
  })

  it("codexd events picks by count, run and type, and folds a message's deltas into one line", async () => {
    const run = await api.call("POST", "/v1/runs", { body: { prompt: "deltas 40" } })
    const runId = String(run.json.runId)
    await waitForRun(runId)
    const events = async (...args: Array<string>) => {
      const result = await runCodexd(["events", ...args], { cwd: temp.path })
      expect(result.exitCode).toBe(0)
      return result.stdout
    }
    expect(JSON.parse(await events("-n", "3", "--json"))).toHaveLength(3)
    const ofRun = JSON.parse(await events("--run", runId, "--type", "run.", "--json")) as Array<RecentEvent>
    expect(ofRun.length).toBeGreaterThan(40)
    expect(ofRun.every((e) => e.detail?.runId === runId && e.type.startsWith("run."))).toBe(true)
    // 40 deltas of one message are one line of the human view, holding all of the text.
    const human = (await events("--run", runId)).split("\n")
    const deltaLines = human.filter((l) => l.includes("run.message.delta"))
    expect(deltaLines).toHaveLength(1)
    expect(deltaLines[0]).toContain("x".repeat(40))
    const bad = await runCodexd(["events", "-n", "many"], { cwd: temp.path })
    expect(bad.exitCode).toBe(2)
  })

  it("streams events as SSE with ids, replays from a seq, and filters by run", async () => {
    const run = await api.call("POST", "/v1/runs", { body: { prompt: "streamed words" } })
    await waitForRun(String(run.json.runId))
    const res = await fetch(`${api.base}/v1/events?since=0&runId=${run.json.runId}`, {
      headers: { authorization: `Bearer ${api.token}` },
    })
    expect(res.headers.get("content-type")).toContain("text/event-stream")
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let text = ""
    while (!text.includes("event: run.completed")) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    await reader.cancel()
    const frames = text.split("\n\n").filter((f) => f.includes("event: "))
    expect(frames.every((f) => f.includes(String(run.json.runId)))).toBe(true)
    const ids = frames.map((f) => Number(/^id: (\d+)$/m.exec(f)?.[1]))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(text).toContain("event: run.message.delta")
    // Resuming after the last seen id gives only later events.
    const last = ids.at(-1) as number
    const resumed = await fetch(`${api.base}/v1/events?runId=${run.json.runId}`, {
      headers: { authorization: `Bearer ${api.token}`, "last-event-id": String(last) },
    })
    const r2 = (resumed.body as ReadableStream<Uint8Array>).getReader()
    const first = new TextDecoder().decode((await r2.read()).value)
    await r2.cancel()
    expect(first).not.toContain("event: run.")
  })
})
