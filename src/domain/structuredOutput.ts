/**
 * Structured output: a run that gives an `outputSchema` gets its final message parsed as JSON and
 * checked against the schema, so a program reads `result.output` as the object it asked for. codex
 * asks the model to follow the schema; a model that did not is a failed run that says where.
 *
 * The schema is checked with Ajv (JSON Schema 2020-12, as OpenAI's structured outputs use it)
 * rather than by hand: it is the validator the JSON Schema ecosystem relies on, and its messages
 * name the path of the bad value.
 */
import { Ajv2020 } from "ajv/dist/2020.js"

// One validator for the process; `strict: false` accepts the keywords models' schemas carry
// (`title`, `description`, formats it does not know) without refusing the schema.
const ajv = new Ajv2020({ strict: false, allErrors: false })

type Validator = ReturnType<typeof ajv.compile>

/**
 * Compile, use, forget: Ajv keeps every schema it compiled (and refuses a second one with the same
 * `$id`), which in a daemon that takes a schema per run would be memory it never gives back.
 */
const withValidator = <A>(schema: Readonly<Record<string, unknown>>, use: (validate: Validator) => A): A => {
  try {
    return use(ajv.compile(schema))
  } finally {
    ajv.removeSchema(schema)
  }
}

/** Why a schema cannot be used, or null when it can. */
export const schemaProblem = (schema: Readonly<Record<string, unknown>>): string | null => {
  try {
    return withValidator(schema, () => null)
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

export type OutputCheck =
  | { readonly _tag: "Parsed"; readonly output: unknown }
  | { readonly _tag: "Invalid"; readonly message: string }

/** The final message as the object the schema describes, or what is wrong with it. */
export const parseOutput = (
  schema: Readonly<Record<string, unknown>>,
  finalMessage: string | null,
): OutputCheck => {
  if (finalMessage === null || finalMessage.trim() === "")
    return { _tag: "Invalid", message: "the run asked for structured output but codex gave no final message" }
  let output: unknown
  try {
    output = JSON.parse(finalMessage)
  } catch {
    return { _tag: "Invalid", message: "the final message is not JSON, as the output schema asks" }
  }
  return withValidator(schema, (validate): OutputCheck => {
    if (validate(output)) return { _tag: "Parsed", output }
    const first = validate.errors?.[0]
    const where = first === undefined || first.instancePath === "" ? "the message" : first.instancePath
    return {
      _tag: "Invalid",
      message: `the final message does not match the output schema: ${where} ${first?.message ?? "is invalid"}`,
    }
  })
}
