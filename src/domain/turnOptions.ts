/**
 * What a run may ask of codex beyond its prompt, and how it becomes `turn/start` parameters: model,
 * reasoning effort, sandbox (mode and details), approval policy, structured output and images. A
 * session sets the defaults, a run overrides them.
 *
 * codex keeps a turn's overrides for the turns after it, so codexd sends the *effective* value of
 * every option it knows on every turn: a run without an override goes back to its session's value
 * instead of inheriting the previous run's.
 */
import { isAbsolute } from "node:path"
import * as Schema from "effect/Schema"
import { AskForApproval, SandboxMode, type UserInput } from "./appServer/protocol.ts"
import { PositiveInt, UnknownRecord } from "./json.ts"

/** Details of a sandbox mode: which roots a workspace-write turn may write, and network access. */
export const SandboxDetails = Schema.Struct({
  writableRoots: Schema.optionalKey(Schema.Array(Schema.NonEmptyString)),
  networkAccess: Schema.optionalKey(Schema.Boolean),
})
export type SandboxDetails = typeof SandboxDetails.Type

/** An image given to a turn: a file on this machine (an absolute path) or a URL. */
export const ImageInput = Schema.Union([
  Schema.Struct({ path: Schema.NonEmptyString }),
  Schema.Struct({ url: Schema.NonEmptyString }),
])
export type ImageInput = typeof ImageInput.Type

const optionalNull = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

/** A run's overrides of its session, as recorded on the run. */
export const TurnOptions = Schema.Struct({
  model: optionalNull(Schema.NonEmptyString),
  reasoningEffort: optionalNull(Schema.NonEmptyString),
  sandbox: optionalNull(SandboxMode),
  sandboxPolicy: optionalNull(SandboxDetails),
  approvalPolicy: optionalNull(AskForApproval),
  /** A JSON Schema the final message must follow; the parsed message becomes `result.output`. */
  outputSchema: optionalNull(UnknownRecord),
  images: Schema.optionalKey(Schema.Array(ImageInput)),
  /** A token budget: the turn is interrupted and the run fails `budget-exceeded` once it uses more. */
  maxTokens: optionalNull(PositiveInt),
})
export type TurnOptions = typeof TurnOptions.Type

/** What a session fixes for its turns (the fields of its record that turns use). */
export interface SessionTurnDefaults {
  readonly model: string | null
  readonly reasoningEffort: string | null
  readonly sandbox: SandboxMode | null
  readonly sandboxPolicy?: SandboxDetails | null
  readonly approvalPolicy: AskForApproval | null
}

/** codex's sandbox policy for a mode and its details. */
export const sandboxPolicyOf = (mode: SandboxMode, details: SandboxDetails | null) => {
  switch (mode) {
    case "danger-full-access":
      return { type: "dangerFullAccess" } as const
    case "read-only":
      return { type: "readOnly", networkAccess: details?.networkAccess ?? false } as const
    case "workspace-write":
      return {
        type: "workspaceWrite",
        writableRoots: details?.writableRoots ?? [],
        networkAccess: details?.networkAccess ?? false,
        excludeTmpdirEnvVar: false,
        excludeSlashTmp: false,
      } as const
  }
}

/** The mode of a sandbox policy codex reports (thread/start answers with the policy, not the mode). */
export const sandboxModeOf = (policy: unknown): SandboxMode | null => {
  const type = (policy as { type?: unknown } | null)?.type
  if (type === "dangerFullAccess") return "danger-full-access"
  if (type === "readOnly") return "read-only"
  if (type === "workspaceWrite") return "workspace-write"
  return null
}

/** The `turn/start` parameters a run's options and its session's defaults come to. */
export const turnParamsOf = (session: SessionTurnDefaults, options: TurnOptions | undefined) => {
  const model = options?.model ?? session.model
  const effort = options?.reasoningEffort ?? session.reasoningEffort
  const approvalPolicy = options?.approvalPolicy ?? session.approvalPolicy
  const mode = options?.sandbox ?? session.sandbox
  const details = options?.sandboxPolicy ?? session.sandboxPolicy ?? null
  const outputSchema = options?.outputSchema ?? null
  return {
    ...(model === null ? {} : { model }),
    ...(effort === null ? {} : { effort }),
    ...(approvalPolicy === null ? {} : { approvalPolicy }),
    ...(mode === null ? {} : { sandboxPolicy: sandboxPolicyOf(mode, details) }),
    ...(outputSchema === null ? {} : { outputSchema }),
  }
}

/** The turn's input: the prompt, then its images. */
export const turnInputOf = (
  prompt: string,
  images: ReadonlyArray<ImageInput> | undefined,
): ReadonlyArray<UserInput> => [
  { type: "text", text: prompt, text_elements: [] },
  ...(images ?? []).map(
    (image): UserInput =>
      "path" in image ? { type: "localImage", path: image.path } : { type: "image", url: image.url },
  ),
]

/** What exec mode cannot carry out: `codex exec` takes a model, a sandbox mode, effort, images and a schema. */
const EXEC_REFUSES = ["sandboxPolicy", "approvalPolicy"] as const

/**
 * The first option a run cannot have, with why, or null. Pure: whether an image file exists is the
 * caller's to check.
 */
export const optionProblem = (
  options: TurnOptions,
  mode: "app-server" | "exec",
  schemaProblem: (schema: Readonly<Record<string, unknown>>) => string | null,
): { readonly option: string; readonly reason: string } | null => {
  for (const [i, image] of (options.images ?? []).entries()) {
    if ("path" in image && !isAbsolute(image.path))
      return { option: `images[${i}].path`, reason: "must be an absolute path" }
    if ("url" in image && mode === "exec")
      return { option: `images[${i}].url`, reason: "codex exec takes local image files only" }
  }
  if (mode === "exec")
    for (const name of EXEC_REFUSES)
      if (options[name] != null) return { option: name, reason: "codex exec does not take it (exec mode)" }
  if (options.outputSchema != null) {
    const problem = schemaProblem(options.outputSchema)
    if (problem !== null) return { option: "outputSchema", reason: `not a usable JSON Schema: ${problem}` }
  }
  return null
}
