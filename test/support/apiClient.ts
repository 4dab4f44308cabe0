/** A test's view of a running daemon's API: its address and token from the state files, and fetch. */
import { readFileSync } from "node:fs"
import type { ResolvedConfig } from "../../src/domain/config.ts"

export interface ApiAccess {
  readonly base: string
  readonly token: string
  readonly call: (
    method: string,
    path: string,
    options?: {
      readonly body?: unknown
      readonly rawBody?: string
      readonly headers?: Record<string, string>
    },
  ) => Promise<{ readonly status: number; readonly json: Record<string, unknown> }>
}

export const apiAccess = (config: ResolvedConfig): ApiAccess => {
  const daemon = JSON.parse(readFileSync(config.paths.daemonStatePath, "utf8")) as { apiBase: string | null }
  if (daemon.apiBase === null) throw new Error("the daemon recorded no apiBase")
  const base = daemon.apiBase
  const token = readFileSync(config.paths.apiTokenPath, "utf8").trim()
  return {
    base,
    token,
    call: async (method, path, options = {}) => {
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...options.headers },
        ...(body === undefined ? {} : { body }),
      })
      const text = await res.text()
      return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) }
    },
  }
}
