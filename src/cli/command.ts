/** What a CLI command is: its name, its help, its own flags, and what it does. */
import type * as Effect from "effect/Effect"
import type { ConfigInput } from "../config.ts"
import type { ResolvedConfig } from "../domain/config.ts"
import type { FlagTable, ParsedArgs } from "./argv.ts"

/** Exit codes (DESIGN §3): callers and scripts branch on these. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  noDaemon: 3,
  /** Left by Ctrl-C (the shell's 128 + SIGINT): what was asked goes on without this command. */
  interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface CliIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

export interface CommandContext {
  readonly args: ParsedArgs
  readonly io: CliIo
  /** Run an Effect program on the CLI's runtime (the entry owns it; commands do not make their own). */
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
}

export interface ConfiguredContext extends CommandContext {
  /** Resolved from the config flags, env, the config file and defaults before the command runs. */
  readonly config: ResolvedConfig
  /** What it was resolved from (for `codexd config`, which says where each value came from). */
  readonly configInput: ConfigInput
}

interface CommandInfo {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly flags: FlagTable
  /** How many words besides flags the command takes (ids, a prompt); more is a usage error. Default 0. */
  readonly maxPositionals?: number
}

/** Most commands need a valid configuration; `help` must work even when the environment is broken. */
export type Command =
  | (CommandInfo & {
      readonly needsConfig: true
      readonly run: (context: ConfiguredContext) => Promise<ExitCode>
    })
  | (CommandInfo & {
      readonly needsConfig: false
      readonly run: (context: CommandContext) => Promise<ExitCode>
    })

export const jsonFlag = {
  json: { kind: "boolean", describe: "print exactly one JSON document on stdout" },
} as const
