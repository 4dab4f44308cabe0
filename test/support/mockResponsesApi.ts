/**
 * A loopback mock of the OpenAI Responses API, enough for the real codex to run turns offline:
 * `POST /v1/responses` answered with a server-sent event stream built from a queue of scripted
 * replies (text, a shell function call, an HTTP error, a stream that never ends). Every request body
 * is recorded so tests can check what codex sent, e.g. the output of a command it ran.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export type MockReply =
  /** An assistant message streamed as `deltas` (joined, the whole text), `delayMs` between deltas. */
  | {
      readonly kind: "text"
      readonly deltas: ReadonlyArray<string>
      readonly delayMs?: number
      /** Extra response headers, e.g. codex's rate-limit headers (`x-codex-primary-used-percent`). */
      readonly headers?: Readonly<Record<string, string>>
    }
  /** A call of codex's `exec_command` tool: codex runs `cmd` and posts its output in the next request. */
  | { readonly kind: "exec"; readonly cmd: string }
  | {
      readonly kind: "httpError"
      readonly status: number
      readonly body?: string
      readonly headers?: Readonly<Record<string, string>>
    }
  /** Starts a message and then sends nothing more until the connection is closed. */
  | { readonly kind: "hang"; readonly firstDelta?: string }

export interface MockResponsesApi {
  readonly baseUrl: string
  readonly requests: Array<Record<string, unknown>>
  readonly enqueue: (...replies: ReadonlyArray<MockReply>) => void
  readonly close: () => Promise<void>
}

let counter = 0
const nextId = (prefix: string) => `${prefix}_${++counter}`

const sse = (res: ServerResponse, type: string, body: Record<string, unknown>): void => {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`)
}

const usage = {
  input_tokens: 12,
  input_tokens_details: null,
  output_tokens: 7,
  output_tokens_details: null,
  total_tokens: 19,
}

/** Open a response with one assistant message item; returns the ids to continue it with. */
const openMessage = (res: ServerResponse): { responseId: string; itemId: string } => {
  const responseId = nextId("resp")
  const itemId = nextId("msg")
  sse(res, "response.created", { response: { id: responseId } })
  sse(res, "response.output_item.added", {
    output_index: 0,
    item: { type: "message", id: itemId, role: "assistant", content: [] },
  })
  return { responseId, itemId }
}

const textDelta = (res: ServerResponse, itemId: string, delta: string): void =>
  sse(res, "response.output_text.delta", { item_id: itemId, output_index: 0, content_index: 0, delta })

const streamText = async (
  res: ServerResponse,
  deltas: ReadonlyArray<string>,
  delayMs: number,
): Promise<void> => {
  const { responseId, itemId } = openMessage(res)
  for (const delta of deltas) {
    if (res.destroyed) return
    textDelta(res, itemId, delta)
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
  }
  sse(res, "response.output_item.done", {
    output_index: 0,
    item: {
      type: "message",
      id: itemId,
      role: "assistant",
      content: [{ type: "output_text", text: deltas.join(""), annotations: [] }],
    },
  })
  sse(res, "response.completed", { response: { id: responseId, usage } })
  res.end()
}

const streamExec = (res: ServerResponse, cmd: string): void => {
  const responseId = nextId("resp")
  const item = {
    type: "function_call",
    id: nextId("fc"),
    call_id: nextId("call"),
    name: "exec_command",
    arguments: JSON.stringify({ cmd, login: false }),
  }
  sse(res, "response.created", { response: { id: responseId } })
  sse(res, "response.output_item.added", { output_index: 0, item })
  sse(res, "response.output_item.done", { output_index: 0, item })
  sse(res, "response.completed", { response: { id: responseId, usage } })
  res.end()
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

export const startMockResponsesApi = async (): Promise<MockResponsesApi> => {
  const queue: Array<MockReply> = []
  const requests: Array<Record<string, unknown>> = []
  const open = new Set<ServerResponse>()
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req)
    if (req.method !== "POST" || !req.url?.endsWith("/responses")) {
      res.writeHead(404).end()
      return
    }
    try {
      requests.push(JSON.parse(body) as Record<string, unknown>)
    } catch {
      requests.push({ unparsed: body })
    }
    const reply = queue.shift() ?? { kind: "text", deltas: ["ok"] }
    if (reply.kind === "httpError") {
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
      res.end(reply.body ?? JSON.stringify({ error: { message: "mock failure", type: "server_error" } }))
      return
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      ...(reply.kind === "text" ? reply.headers : {}),
    })
    open.add(res)
    res.on("close", () => open.delete(res))
    if (reply.kind === "text") await streamText(res, reply.deltas, reply.delayMs ?? 0)
    else if (reply.kind === "exec") streamExec(res, reply.cmd)
    else {
      const { itemId } = openMessage(res)
      if (reply.firstDelta !== undefined) textDelta(res, itemId, reply.firstDelta)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies)
    },
    close: async () => {
      for (const res of open) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
