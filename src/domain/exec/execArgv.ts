/**
 * The argv of one `codex exec --json` run (exec mode): pure, so every flag can be checked beside the
 * option it comes from. The prompt always comes last, after `--`, so a prompt that starts with `-` is
 * never read as a flag; stdin is closed by the caller, so codex never waits for more input.
 */
import type { SandboxMode } from "../appServer/protocol.ts"

export interface ExecRunSpec {
  readonly prompt: string
  /** The turn's working directory (`--cd`); null: the process's own cwd. */
  readonly cwd: string | null
  readonly sandbox: SandboxMode | null
  readonly model: string | null
  /** Local image files attached to the prompt (`--image`). */
  readonly images: ReadonlyArray<string>
  /** A file holding the JSON Schema the final message must follow (`--output-schema`). */
  readonly outputSchemaPath: string | null
  /** `--config key=value` overrides, in order (values are TOML, as codex reads them). */
  readonly config: ReadonlyArray<readonly [string, string]>
  /** Run outside a git repository too (codex refuses by default). */
  readonly skipGitRepoCheck: boolean
  /** The session's exec thread, for its second and later runs: `exec resume <threadId>`. */
  readonly resumeThreadId: string | null
}

export const execArgv = (spec: ExecRunSpec): ReadonlyArray<string> => [
  "exec",
  "--json",
  ...(spec.cwd === null ? [] : ["--cd", spec.cwd]),
  ...(spec.sandbox === null ? [] : ["--sandbox", spec.sandbox]),
  ...(spec.model === null ? [] : ["--model", spec.model]),
  ...spec.config.flatMap(([key, value]) => ["--config", `${key}=${value}`]),
  ...spec.images.flatMap((path) => ["--image", path]),
  ...(spec.outputSchemaPath === null ? [] : ["--output-schema", spec.outputSchemaPath]),
  ...(spec.skipGitRepoCheck ? ["--skip-git-repo-check"] : []),
  ...(spec.resumeThreadId === null ? [] : ["resume", spec.resumeThreadId]),
  "--",
  spec.prompt,
]
