/**
 * What the CLI's client commands share: reaching the daemon (exit 3 when none runs), printing an
 * answer decoded with its schema (or its error with the exit code it means), compact tables.
 */
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import { type ApiConnection, type ApiReply, connectApi, errorMessage } from "../client/apiConnection.ts"
import type { ResolvedConfig } from "../domain/config.ts"
import { decodeValue } from "../domain/decode.ts"
import { isWholeId } from "../domain/ids.ts"
import { type CliIo, ExitCode } from "./command.ts"
import { resolveIdPrefix } from "./idPrefix.ts"

export const withApi = async (
  name: string,
  config: ResolvedConfig,
  io: CliIo,
  body: (api: ApiConnection) => Promise<ExitCode>,
): Promise<ExitCode> => {
  const api = connectApi(config)
  if ("noDaemon" in api) {
    io.err(`codexd ${name}: ${api.noDaemon}; start one with \`codexd start\`\n`)
    return ExitCode.noDaemon
  }
  return body(api)
}

/**
 * Print a reply: its JSON, or the rendering of the answer decoded with its schema; an error reply
 * goes to stderr with its exit code, and so does an answer this codexd does not understand.
 */
export const answer = <A>(
  name: string,
  io: CliIo,
  json: boolean,
  reply: ApiReply,
  schema: Schema.ConstraintDecoder<A>,
  render: (body: A) => string,
) => {
  if (reply.status >= 400) {
    io.err(`codexd ${name}: ${errorMessage(reply)}\n`)
    // A conflict (the run already ended, the approval was answered) is the thing asked for failing.
    return reply.status >= 500 || reply.status === 409 ? ExitCode.failed : ExitCode.usage
  }
  const decoded = decodeValue(schema, "the daemon's answer")(reply.json)
  if (Result.isFailure(decoded)) {
    io.err(`codexd ${name}: ${decoded.failure.message}\n`)
    return ExitCode.failed
  }
  io.out(json ? `${JSON.stringify(reply.json)}\n` : render(decoded.success))
  return ExitCode.ok
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
  api: ApiConnection,
  given: string,
  name: string,
  io: CliIo,
): Promise<string | null> => {
  // A whole id needs no list of the registry (up to its retention of records) to be looked up.
  if (isWholeId("run", given)) return given
  const list = await api.call("GET", "/v1/runs")
  const known = ((list.json.runs ?? []) as ReadonlyArray<{ runId: string }>).map((r) => r.runId)
  const match = resolveIdPrefix(given, known, "run")
  if ("id" in match) return match.id
  if (known.some((id) => id.startsWith(given))) {
    io.err(`codexd ${name}: ${match.problem}\n`)
    return null
  }
  return given
}
