/** `codexd help [COMMAND]` */
import { type Command, ExitCode } from "./command.ts"
import { commandHelp, generalHelp } from "./help.ts"

export const helpCommand = (commands: () => ReadonlyArray<Command>): Command => ({
  name: "help",
  maxPositionals: 1,
  summary: "show this help, or one command's help",
  usage: "codexd help [COMMAND]",
  flags: {},
  needsConfig: false,
  run: async ({ args, io }) => {
    const topic = args.positionals[0]
    if (topic === undefined) {
      io.out(generalHelp(commands()))
      return ExitCode.ok
    }
    const command = commands().find((c) => c.name === topic)
    if (command === undefined) {
      io.err(`codexd: unknown command ${JSON.stringify(topic)}\n\n${generalHelp(commands())}`)
      return ExitCode.usage
    }
    io.out(commandHelp(command))
    return ExitCode.ok
  },
})
