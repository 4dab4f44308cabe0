/** A test's view of a running daemon's API: found as the CLI finds it, called with raw fetch. */
import { connectApi } from "../../src/client/apiConnection.ts"
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
  // Found the way the CLI finds it; calls are raw here, so tests can send any body and headers.
  const connection = connectApi(config)
  if ("noDaemon" in connection) throw new Error(connection.noDaemon)
  const { base, token } = connection
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
