/**
 * A small argv parser driven by a command's flag table, so that parsing and help can never disagree.
 * Accepts `--name value`, `--name=value`, boolean `--name`, and `--` to end flags. Anything it does
 * not know is a `UsageError` (exit 2) that names the offending word.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String,
  /** The command whose usage to show with the error, when known. */
  command: Schema.NullOr(Schema.String),
}) {}

export interface FlagSpec {
  /** `optional`: `--name` alone, or `--name=value` (never a separate word, so it cannot eat an argument). */
  readonly kind: "boolean" | "string" | "optional"
  readonly describe: string
  /** Shown in help for string flags: `--since SEQ`. */
  readonly placeholder?: string
  /** A one-letter alias: `-n 20` for `--lines 20`. */
  readonly short?: string
  /** A string flag that may be given more than once (`--image a --image b`); all are in `lists`. */
  readonly repeatable?: boolean
}

export type FlagTable = Readonly<Record<string, FlagSpec>>

export interface ParsedArgs {
  /** The last value of each flag given. */
  readonly flags: Readonly<Record<string, string | true>>
  /** Every value of each repeatable flag, in order. */
  readonly lists: Readonly<Record<string, ReadonlyArray<string>>>
  readonly positionals: ReadonlyArray<string>
}

export const parseArgs = (
  command: string,
  args: ReadonlyArray<string>,
  table: FlagTable,
): Result.Result<ParsedArgs, UsageError> => {
  const flags: Record<string, string | true> = {}
  const lists: Record<string, Array<string>> = {}
  const setValue = (name: string, value: string) => {
    flags[name] = value
    if (table[name]?.repeatable === true) lists[name] = [...(lists[name] ?? []), value]
  }
  const positionals: Array<string> = []
  const fail = (message: string) => Result.fail(new UsageError({ message, command }))
  const shorts = new Map(
    Object.entries(table).flatMap(([name, spec]) =>
      spec.short === undefined ? [] : [[`-${spec.short}`, name]],
    ),
  )
  for (let i = 0; i < args.length; i++) {
    const given = args[i] as string
    const long = shorts.get(given)
    const word = long === undefined ? given : `--${long}`
    if (word === "--") {
      positionals.push(...args.slice(i + 1))
      break
    }
    if (!word.startsWith("--") || word === "--") {
      if (word.startsWith("-") && word.length > 1 && word !== "-h") return fail(`unknown option ${word}`)
      if (word === "-h") flags.help = true
      else positionals.push(word)
      continue
    }
    const eq = word.indexOf("=")
    const name = eq === -1 ? word.slice(2) : word.slice(2, eq)
    const spec = table[name]
    if (spec === undefined) return fail(`unknown option --${name}`)
    if (spec.kind === "boolean") {
      if (eq !== -1) return fail(`--${name} takes no value`)
      flags[name] = true
      continue
    }
    if (spec.kind === "optional") {
      flags[name] = eq === -1 ? true : word.slice(eq + 1)
      continue
    }
    if (eq !== -1) {
      setValue(name, word.slice(eq + 1))
      continue
    }
    const value = args[i + 1]
    if (value === undefined)
      return fail(`--${name} needs a value${spec.placeholder ? ` (${spec.placeholder})` : ""}`)
    setValue(name, value)
    i += 1
  }
  return Result.succeed({ flags, lists, positionals })
}
