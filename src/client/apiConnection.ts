/**
 * How a client (the CLI, CodexdClient) reaches a running daemon: the address it recorded in the
 * daemon state, the token from the token file, and JSON over HTTP. No daemon (no lock holder, or no
 * address) is `noDaemon`, which every client command turns into exit 3.
 */
import { readFileSync } from "node:fs"
import type { ResolvedConfig } from "../domain/config.ts"
import { readApiToken } from "../services/api/apiToken.ts"
import { lockHolder } from "../services/store/StateLock.ts"

/**
 * The daemon holds the lock but cannot be reached, or went away mid-answer (it stopped under `run` or
 * `events --follow`). The CLI says so in one line and exits 3, like no daemon at all.
 */
export class DaemonUnreachable extends Error {
  override readonly name = "DaemonUnreachable"
}

/** The reason in a word (ECONNREFUSED, ...): node:http puts it on the error, fetch one level down. */
const reasonOf = (error: unknown): string => {
  const own = (error as { code?: unknown }).code
  if (typeof own === "string") return own
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
}

const reaching = async <A>(base: string, send: () => Promise<A>): Promise<A> => {
  try {
    return await send()
  } catch (error) {
    throw new DaemonUnreachable(`the daemon does not answer at ${base} (${reasonOf(error)})`)
  }
}

/**
 * One request with node:http rather than fetch: loading fetch (undici) costs a light command ~60 ms,
 * more than the rest of it. The event stream, which lives long, stays on fetch. node:http is taken
 * with `getBuiltinModule`: an ESM import of it evaluates every export, its lazy undici getters too.
 */
const httpCall = (
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const { request } = process.getBuiltinModule("node:http")
    const req = request(url, { method, headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      )
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

export interface ApiConnection {
  readonly base: string
  readonly token: string
  readonly call: (method: "GET" | "POST", path: string, body?: unknown) => Promise<ApiReply>
  /** The event stream as a fetch response (SSE), for commands that follow events. */
  readonly stream: (query: string) => Promise<Response>
}

export interface ApiReply {
  readonly status: number
  readonly json: Record<string, unknown>
}

/** A connection to a daemon at a known address with a known token. */
export const apiAt = (base: string, token: string, eventStreamPath = "/v1/events"): ApiConnection => {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" }
  return {
    base,
    token,
    call: async (method, path, body) => {
      const { status, text } = await reaching(base, () =>
        httpCall(new URL(path, base), method, headers, body === undefined ? undefined : JSON.stringify(body)),
      )
      return { status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) }
    },
    stream: (query) => reaching(base, () => fetch(`${base}${eventStreamPath}${query}`, { headers })),
  }
}

export const connectApi = (config: ResolvedConfig): ApiConnection | { readonly noDaemon: string } => {
  if (lockHolder(config.paths.lockPath) === null)
    return { noDaemon: `no daemon is running on ${config.paths.stateDir}` }
  let base: string | null = null
  try {
    base =
      (JSON.parse(readFileSync(config.paths.daemonStatePath, "utf8")) as { apiBase?: string | null })
        .apiBase ?? null
  } catch {
    base = null
  }
  const token = readApiToken(config.paths.apiTokenPath)
  if (base === null || token === null) return { noDaemon: "the running daemon has not published its API yet" }
  return apiAt(base, token, config.service.eventStreamPath)
}

/** The message of an API error answer. */
export const errorMessage = (reply: ApiReply): string => {
  const error = reply.json.error as { code?: string; message?: string } | undefined
  return `${error?.message ?? `HTTP ${reply.status}`}${error?.code ? ` (${error.code})` : ""}`
}

export interface SseFrame {
  readonly event: string
  readonly id: number | null
  readonly data: unknown
}

/**
 * The frames of an SSE response as they arrive, pulled one at a time: the body is read only as fast
 * as the consumer takes frames, and a consumer that stops (a `break`) cancels the body.
 */
export async function* sseFrames(res: Response): AsyncGenerator<SseFrame, void> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffered = ""
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((error: unknown) => {
        throw new DaemonUnreachable(`the event stream broke off: the daemon stopped (${reasonOf(error)})`)
      })
      if (done) return
      // One split per chunk: slicing the rest off after every frame is quadratic in the chunk size.
      const raws = (buffered + decoder.decode(value, { stream: true })).split("\n\n")
      buffered = raws.pop() ?? ""
      for (const raw of raws) {
        const event = /^event: (.*)$/m.exec(raw)?.[1]
        if (event === undefined) continue
        const id = /^id: (\d+)$/m.exec(raw)?.[1]
        const data = JSON.parse(/^data: (.*)$/m.exec(raw)?.[1] ?? "null") as unknown
        yield { event, id: id === undefined ? null : Number(id), data }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}

/** Read an SSE response frame by frame until `onFrame` returns false or the stream ends. */
export const readFrames = async (res: Response, onFrame: (frame: SseFrame) => boolean): Promise<void> => {
  for await (const frame of sseFrames(res)) if (!onFrame(frame)) return
}
