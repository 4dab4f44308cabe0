/**
 * Decoding untrusted JSON (state files, HTTP bodies, config values) into domain records.
 * A failure is a `DecodeError` that names where the input came from and the path of the first bad field,
 * so that "runs.json: runs[3].status: Expected ..." tells a person exactly what to fix.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"

export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  /** Where the input came from: a file path, "request body", an env var name. */
  source: Schema.String,
  /** Dotted path of the first bad field (`runs[3].status`); empty when the whole input is bad. */
  path: Schema.String,
  /** What was expected there. */
  reason: Schema.String,
}) {
  override get message(): string {
    return this.path === ""
      ? `${this.source}: ${this.reason}`
      : `${this.source}: ${this.path}: ${this.reason}`
  }
}

const toStandardIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** `["runs", 3, "status"]` → `runs[3].status` */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`
    const name = String(key)
    return out === "" ? name : `${out}.${name}`
  }, "")

const toDecodeError = (source: string, issue: SchemaIssue.Issue): DecodeError => {
  const first = toStandardIssues(issue).issues[0]
  return new DecodeError({
    source,
    path:
      first === undefined
        ? ""
        : formatPath((first.path ?? []).map((p) => (typeof p === "object" ? p.key : p))),
    reason: first?.message ?? "invalid input",
  })
}

/** Decode an already-parsed value. */
export const decodeValue =
  <A>(schema: Schema.ConstraintDecoder<A>, source: string) =>
  (input: unknown): Result.Result<A, DecodeError> => {
    const result = Schema.decodeUnknownResult(schema)(input)
    return Result.isSuccess(result)
      ? Result.succeed(result.success)
      : Result.fail(toDecodeError(source, result.failure.issue))
  }

/** Parse JSON text and decode it; a syntax error is reported like any other bad input. */
export const decodeJsonText =
  <A>(schema: Schema.ConstraintDecoder<A>, source: string) =>
  (text: string): Result.Result<A, DecodeError> => {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (cause) {
      return Result.fail(
        new DecodeError({ source, path: "", reason: `not valid JSON (${(cause as Error).message})` }),
      )
    }
    return decodeValue(schema, source)(parsed)
  }
