/**
 * How the CLI reaches a running daemon: the address it recorded in the daemon state, the token from
 * the token file, and JSON over HTTP. No daemon (no lock holder, or no address) is `NoDaemon`, which
 * every client command turns into exit 3.
 */
import { readFileSync } from "node:fs"
import type { ResolvedConfig } from "../domain/config.ts"
import { readApiToken } from "../services/api/apiToken.ts"
import { lockHolder } from "../services/store/StateLock.ts"

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
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" }
  return {
    base,
    token,
    call: async (method, path, body) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) }
    },
    stream: (query) => fetch(`${base}${config.service.eventStreamPath}${query}`, { headers }),
  }
}

/** The message of an API error answer. */
export const errorMessage = (reply: ApiReply): string => {
  const error = reply.json.error as { code?: string; message?: string } | undefined
  return `${error?.message ?? `HTTP ${reply.status}`}${error?.code ? ` (${error.code})` : ""}`
}

/** Read an SSE response frame by frame until `onFrame` returns false or the stream ends. */
export const readFrames = async (
  res: Response,
  onFrame: (frame: { readonly event: string; readonly id: number | null; readonly data: unknown }) => boolean,
): Promise<void> => {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffered = ""
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      // One split per chunk: slicing the rest off after every frame is quadratic in the chunk size.
      const raws = (buffered + decoder.decode(value, { stream: true })).split("\n\n")
      buffered = raws.pop() ?? ""
      for (const raw of raws) {
        const event = /^event: (.*)$/m.exec(raw)?.[1]
        if (event === undefined) continue
        const id = /^id: (\d+)$/m.exec(raw)?.[1]
        const data = JSON.parse(/^data: (.*)$/m.exec(raw)?.[1] ?? "null") as unknown
        if (!onFrame({ event, id: id === undefined ? null : Number(id), data })) return
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}
