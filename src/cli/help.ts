/** Help text, generated from the command table and the settings table so it cannot drift. */
import { defaultText, type Setting, settings } from "../config.ts"
import type { FlagTable } from "./argv.ts"
import type { Command } from "./command.ts"

const flagLines = (table: FlagTable): Array<string> => {
  const entries = Object.entries(table).map(([name, spec]) => [
    (spec.short === undefined ? "" : `-${spec.short}, `) +
      (spec.kind === "string"
        ? `--${name} ${spec.placeholder ?? "VALUE"}`
        : spec.kind === "optional"
          ? `--${name}[=${spec.placeholder ?? "VALUE"}]`
          : `--${name}`),
    spec.repeatable === true ? `${spec.describe} (repeatable)` : spec.describe,
  ])
  const width = Math.max(0, ...entries.map(([left]) => (left ?? "").length))
  return entries.map(([left, right]) => `  ${(left ?? "").padEnd(width)}  ${right}`)
}

const configFlagLines = (): Array<string> => {
  const entries = (Object.values(settings) as ReadonlyArray<Setting>).map((s) => [
    `--${s.flag}`,
    s.env,
    `${s.describe} (default: ${defaultText(s)})`,
  ])
  const w1 = Math.max(...entries.map(([flag]) => (flag ?? "").length))
  const w2 = Math.max(...entries.map(([, env]) => (env ?? "").length))
  return entries.map(
    ([flag, env, text]) => `  ${(flag ?? "").padEnd(w1)}  ${(env ?? "").padEnd(w2)}  ${text}`,
  )
}

export const generalHelp = (commands: ReadonlyArray<Command>): string => {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    "codexd: run OpenAI Codex as a supervised local service",
    "",
    "usage: codexd <command> [options]      codexd --version",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "configuration (every command; flag > environment variable > default):",
    ...configFlagLines(),
    "",
    "exit codes: 0 ok, 1 the thing asked for failed, 2 bad usage or bad config, 3 no daemon is running (or answering)",
    "run `codexd <command> --help` for a command's own options",
    "",
  ].join("\n")
}

export const commandHelp = (command: Command): string =>
  [
    `usage: ${command.usage}`,
    "",
    command.summary,
    "",
    ...(Object.keys(command.flags).length > 0 ? ["options:", ...flagLines(command.flags), ""] : []),
    "configuration options (see `codexd help`): --repo-root, --state-dir, --logs-dir, --api-base, ...",
    "",
  ].join("\n")
