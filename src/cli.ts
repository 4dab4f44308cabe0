/**
 * The `codexd` command line: parse argv, resolve the configuration, run one command, exit with its
 * code. Thin on purpose: commands live in `src/cli/`, the daemon in `src/daemon.ts`.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import packageJson from "../package.json" with { type: "json" }
import { type FlagTable, parseArgs, UsageError } from "./cli/argv.ts"
import {
  approvalsCommand,
  approveCommand,
  eventsCommand,
  interruptCommand,
  restartCommand,
  runsCommand,
  steerCommand,
} from "./cli/clientCommands.ts"
import { closestName } from "./cli/closestName.ts"
import { type CliIo, type Command, ExitCode } from "./cli/command.ts"
import { completionCommand } from "./cli/completionCommand.ts"
import { configCommand } from "./cli/configCommand.ts"
import { commandHelp, generalHelp } from "./cli/help.ts"
import { helpCommand } from "./cli/helpCommand.ts"
import { logsCommand } from "./cli/logsCommand.ts"
import { machinesCommand } from "./cli/machinesCommand.ts"
import { nodesCommand } from "./cli/nodesCommand.ts"
import { openCommand } from "./cli/openCommand.ts"
import { runCommand } from "./cli/runCommand.ts"
import { serviceCommand } from "./cli/serviceCommand.ts"
import { sessionsCommand } from "./cli/sessionsCommand.ts"
import { smokeCommand } from "./cli/smokeCommand.ts"
import { startCommand } from "./cli/startCommand.ts"
import { statusCommand } from "./cli/statusCommand.ts"
import { stopCommand } from "./cli/stopCommand.ts"
import { compactCommand, forkCommand, revertCommand, reviewCommand } from "./cli/threadCommands.ts"
import { DaemonUnreachable } from "./client/apiConnection.ts"
import { DaemonNotRunningError } from "./client/clientErrors.ts"
import { defaultText, resolveConfig, type SettingKey, settingKeys, settings } from "./config.ts"
import { configInputFromProcess } from "./configInputFromProcess.ts"

/** The arguments after the command name, for `start --detach` to hand to the background daemon. */
let commandArgv: ReadonlyArray<string> = []

const commands: ReadonlyArray<Command> = [
  startCommand(() => commandArgv),
  stopCommand,
  restartCommand,
  statusCommand,
  smokeCommand,
  runCommand,
  sessionsCommand,
  runsCommand,
  eventsCommand,
  logsCommand,
  interruptCommand,
  steerCommand,
  approvalsCommand,
  approveCommand,
  forkCommand,
  revertCommand,
  compactCommand,
  reviewCommand,
  configCommand,
  serviceCommand,
  machinesCommand,
  openCommand,
  nodesCommand,
  completionCommand(
    () => commands,
    () => configFlags,
  ),
  helpCommand(() => commands),
]

/** Every configuration setting is also a flag of every command. */
const configFlags: FlagTable = Object.fromEntries(
  settingKeys.map((key) => [
    settings[key].flag,
    { kind: "string", describe: `${settings[key].describe} (default: ${defaultText(settings[key])})` },
  ]),
)
const helpFlag: FlagTable = { help: { kind: "boolean", describe: "show this command's help" } }

const configFlagValues = (
  flags: Readonly<Record<string, string | true>>,
): Partial<Record<SettingKey, string>> => {
  const values: Partial<Record<SettingKey, string>> = {}
  for (const key of settingKeys) {
    const value = flags[settings[key].flag]
    if (typeof value === "string") values[key] = value
  }
  return values
}

export const main = async (argv: ReadonlyArray<string>, io: CliIo): Promise<ExitCode> => {
  const [name, ...rest] = argv
  if (name === undefined || name === "--help" || name === "-h") {
    io.out(generalHelp(commands))
    return name === undefined ? ExitCode.usage : ExitCode.ok
  }
  if (name === "--version" || name === "-V") {
    io.out(`codexd ${packageJson.version}\n`)
    return ExitCode.ok
  }
  const command = commands.find((c) => c.name === name)
  if (command === undefined) {
    const near = closestName(
      name,
      commands.map((c) => c.name),
    )
    const hint = near === null ? "" : `did you mean \`codexd ${near}\`? `
    io.err(`codexd: unknown command ${JSON.stringify(name)}; ${hint}run \`codexd help\` for the list\n`)
    return ExitCode.usage
  }
  commandArgv = rest
  const parsed = parseArgs(command.name, rest, { ...configFlags, ...helpFlag, ...command.flags })
  if (Result.isFailure(parsed)) {
    io.err(`codexd ${command.name}: ${parsed.failure.message}\n\n${commandHelp(command)}`)
    return ExitCode.usage
  }
  const args = parsed.success
  if (args.flags.help === true) {
    io.out(commandHelp(command))
    return ExitCode.ok
  }
  const stray = args.positionals.slice(command.maxPositionals ?? 0)
  if (stray.length > 0) {
    io.err(
      `codexd ${command.name}: unexpected argument ${JSON.stringify(stray[0])}\n\n${commandHelp(command)}`,
    )
    return ExitCode.usage
  }
  const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
  if (!command.needsConfig) return command.run({ args, io, run })
  const configInput = configInputFromProcess(configFlagValues(args.flags))
  const config = resolveConfig(configInput)
  if (Result.isFailure(config)) {
    io.err(`codexd ${command.name}: ${config.failure.message}\n`)
    return ExitCode.usage
  }
  return command.run({ args, io, run, config: config.success, configInput })
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}

/**
 * Run one command as this process and exit with its code. The exit is explicit: a command that is
 * done is done, whatever handles (log streams, sockets) a library may still hold open.
 */
export const runCli = async (argv: ReadonlyArray<string>): Promise<never> => {
  let code: number
  try {
    code = await main(argv, processIo)
  } catch (error) {
    if (error instanceof DaemonUnreachable || error instanceof DaemonNotRunningError) {
      process.stderr.write(`codexd ${argv[0] ?? ""}: ${error.message}\n`)
      code = ExitCode.noDaemon
    } else {
      const message =
        error instanceof UsageError ? error.message : error instanceof Error ? error.stack : String(error)
      process.stderr.write(`codexd: ${message}\n`)
      code = ExitCode.failed
    }
  }
  // Let stdout and stderr drain before exiting, so a piped `--json` document is never cut short.
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()))
  await new Promise<void>((resolve) => process.stderr.write("", () => resolve()))
  process.exit(code)
}

if (import.meta.main) await runCli(process.argv.slice(2))
