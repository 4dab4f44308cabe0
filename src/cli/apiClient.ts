/**
 * How the CLI reaches a running daemon: the address it recorded in the daemon state, the token from
 * the token file, and JSON over HTTP. No daemon (no lock holder, or no address) is `NoDaemon`, which
 * every client command turns into exit 3.
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

/** Node's fetch hides the reason (ECONNREFUSED, ...) one level down. */
const reasonOf = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
}

const reaching = async <A>(base: string, request: () => Promise<A>): Promise<A> => {
  try {
    return await request()
  } catch (error) {
    throw new DaemonUnreachable(`the daemon does not answer at ${base} (${reasonOf(error)})`)
  }
}

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
      const { status, text } = await reaching(base, async () => {
        const res = await fetch(`${base}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        return { status: res.status, text: await res.text() }
      })
      return { status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) }
    },
    stream: (query) =>
      reaching(base, () => fetch(`${base}${config.service.eventStreamPath}${query}`, { headers })),
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
        if (!onFrame({ event, id: id === undefined ? null : Number(id), data })) return
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}
