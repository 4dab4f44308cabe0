/**
 * The flags of `codexd run` that become turn options: model, effort, sandbox, an output schema read
 * from a file, images, a token budget. Read here, in the CLI, because they name files on the caller's machine and
 * relative to the caller's directory; the daemon gets absolute paths and the schema itself.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import type { RunOptions } from "../client/CodexdClient.ts"
import type { FlagTable, ParsedArgs } from "./argv.ts"

export const runOptionFlags = {
  model: { kind: "string", placeholder: "MODEL", describe: "the model for this run" },
  effort: { kind: "string", placeholder: "EFFORT", describe: "reasoning effort (low, medium, high, ...)" },
  sandbox: {
    kind: "string",
    placeholder: "MODE",
    describe: "read-only, workspace-write or danger-full-access, for this run",
  },
  "output-schema": {
    kind: "string",
    placeholder: "FILE",
    describe: "a JSON Schema file the answer must follow; the parsed answer is result.output",
  },
  image: { kind: "string", placeholder: "PATH", describe: "an image sent with the prompt", repeatable: true },
  "max-tokens": {
    kind: "string",
    placeholder: "N",
    describe: "a token budget: past it the turn is interrupted and the run fails budget-exceeded",
  },
} as const satisfies FlagTable

const stringFlag = (args: ParsedArgs, name: string): string | null => {
  const value = args.flags[name]
  return typeof value === "string" ? value : null
}

/** The turn options the flags ask for, or the one-line problem with them. */
export const runOptionsOf = (
  args: ParsedArgs,
  cwd: string,
): { readonly options: RunOptions } | { readonly problem: string } => {
  const model = stringFlag(args, "model")
  const effort = stringFlag(args, "effort")
  const sandbox = stringFlag(args, "sandbox")
  const schemaFile = stringFlag(args, "output-schema")
  let outputSchema: Record<string, unknown> | null = null
  if (schemaFile !== null) {
    let text: string
    try {
      text = readFileSync(resolve(cwd, schemaFile), "utf8")
    } catch (error) {
      return {
        problem: `--output-schema ${schemaFile}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
      }
    }
    try {
      outputSchema = JSON.parse(text) as Record<string, unknown>
    } catch {
      return { problem: `--output-schema ${schemaFile}: not JSON` }
    }
    if (typeof outputSchema !== "object" || outputSchema === null || Array.isArray(outputSchema))
      return { problem: `--output-schema ${schemaFile}: a JSON Schema is an object` }
  }
  const images = (args.lists.image ?? []).map((path) => ({ path: resolve(cwd, path) }))
  const budget = stringFlag(args, "max-tokens")
  if (budget !== null && !/^[1-9]\d*$/.test(budget))
    return { problem: `--max-tokens ${budget}: a positive whole number of tokens` }
  return {
    options: {
      ...(model === null ? {} : { model }),
      ...(effort === null ? {} : { reasoningEffort: effort }),
      ...(sandbox === null ? {} : { sandbox: sandbox as NonNullable<RunOptions["sandbox"]> }),
      ...(outputSchema === null ? {} : { outputSchema }),
      ...(images.length === 0 ? {} : { images }),
      ...(budget === null ? {} : { maxTokens: Number(budget) }),
    },
  }
}
