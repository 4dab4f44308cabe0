/**
 * What the CLI's client commands share: reaching the daemon as a CodexdClient (exit 3 when none
 * runs), printing what a client call resolved to (or its error with the exit code it means), compact
 * tables.
 */
import { type ApiConnection, connectApi } from "../client/apiConnection.ts"
import { CodexdClient } from "../client/CodexdClient.ts"
import type { CodexdClientError } from "../client/clientErrors.ts"
import type { ResolvedConfig } from "../domain/config.ts"
import { isWholeId } from "../domain/ids.ts"
import { type CliIo, ExitCode } from "./command.ts"
import { resolveIdPrefix } from "./idPrefix.ts"

export const withApi = async (
  name: string,
  config: ResolvedConfig,
  io: CliIo,
  body: (client: CodexdClient, api: ApiConnection) => Promise<ExitCode>,
): Promise<ExitCode> => {
  const api = connectApi(config)
  if ("noDaemon" in api) {
    io.err(`codexd ${name}: ${api.noDaemon}; start one with \`codexd start\`\n`)
    return ExitCode.noDaemon
  }
  return body(CodexdClient.over(api), api)
}

/**
 * Print what a client call resolves to (its JSON, or its rendering); a refusal goes to stderr with
 * the exit code it means: 2 for the request's fault, 1 for a conflict (the run already ended, the
 * approval was answered) or the daemon's failure. No daemon is left to the entry (exit 3).
 */
export const answer = async <A>(
  name: string,
  io: CliIo,
  json: boolean,
  pending: Promise<A>,
  render: (body: A) => string,
): Promise<ExitCode> => {
  try {
    const body = await pending
    io.out(json ? `${JSON.stringify(body)}\n` : render(body))
    return ExitCode.ok
  } catch (error) {
    if (!(error instanceof Error) || !("_tag" in error) || error._tag === "DaemonNotRunningError") throw error
    const { _tag, message } = error as CodexdClientError
    io.err(`codexd ${name}: ${message}\n`)
    return _tag === "ConflictError" || _tag === "DaemonError" ? ExitCode.failed : ExitCode.usage
  }
}

export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  if (rows.length <= 1) return `${rows[0]?.join("  ") ?? ""}\n(none)\n`
  const widths = (rows[0] as ReadonlyArray<string>).map((_, i) =>
    Math.max(...rows.map((r) => (r[i] ?? "").length)),
  )
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")).join("\n")}\n`
}

export const text = (value: unknown): string => (value === null || value === undefined ? "-" : String(value))
export const clip = (value: unknown, max = 60): string => {
  const s = text(value).replace(/\s+/g, " ")
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}

export const needsOne = (
  name: string,
  what: string,
  positionals: ReadonlyArray<string>,
  io: CliIo,
): string | null => {
  const [value] = positionals
  if (value === undefined || value === "") {
    io.err(`codexd ${name}: ${what} is required\n`)
    return null
  }
  return value
}

/**
 * The run id meant by what was typed: a unique prefix of a run in the registry, or the text as given
 * (an archived run is found by its full id). Null, after saying why, when the prefix is ambiguous.
 */
export const fullRunId = async (
  client: CodexdClient,
  given: string,
  name: string,
  io: CliIo,
): Promise<string | null> => {
  // A whole id needs no list of the registry (up to its retention of records) to be looked up.
  if (isWholeId("run", given)) return given
  const known = (await client.runs.list()).map((r) => r.runId)
  const match = resolveIdPrefix(given, known, "run")
  if ("id" in match) return match.id
  if (known.some((id) => id.startsWith(given))) {
    io.err(`codexd ${name}: ${match.problem}\n`)
    return null
  }
  return given
}
