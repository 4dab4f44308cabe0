/**
 * `codexd completion bash|zsh`: a completion script made from the command table itself (commands,
 * then each command's flags and the configuration flags), so it never falls behind the CLI.
 * Install: `codexd completion bash >> ~/.bashrc`, or `source <(codexd completion zsh)` in ~/.zshrc.
 */
import type { FlagTable } from "./argv.ts"
import { type Command, ExitCode } from "./command.ts"

const flagWords = (flags: FlagTable): Array<string> =>
  Object.entries(flags).flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])])

/** bash: one `case` arm per command with its flags; the command names in first position. */
const bashScript = (commands: ReadonlyArray<Command>, configFlags: FlagTable): string => {
  const arms = commands
    .map(
      (c) =>
        `    ${c.name}) words="${[...flagWords(c.flags), ...flagWords(configFlags), "--help"].join(" ")}" ;;`,
    )
    .join("\n")
  return `# codexd completion for bash
_codexd() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  local words=""
  case "\${COMP_WORDS[1]}" in
${arms}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _codexd codexd
`
}

/** zsh: the bash script through zsh's bashcompinit, which runs it as bash would. */
const zshScript = (commands: ReadonlyArray<Command>, configFlags: FlagTable): string =>
  `# codexd completion for zsh
autoload -U +X bashcompinit && bashcompinit
${bashScript(commands, configFlags).split("\n").slice(1).join("\n")}`

export const completionCommand = (
  commands: () => ReadonlyArray<Command>,
  configFlags: () => FlagTable,
): Command => ({
  name: "completion",
  maxPositionals: 1,
  summary: "print a shell completion script (bash or zsh)",
  usage: "codexd completion bash|zsh",
  flags: {},
  needsConfig: false,
  run: async ({ args, io }) => {
    const shell = args.positionals[0]
    if (shell !== "bash" && shell !== "zsh") {
      io.err("codexd completion: say which shell: bash or zsh\n")
      return ExitCode.usage
    }
    io.out(shell === "bash" ? bashScript(commands(), configFlags()) : zshScript(commands(), configFlags()))
    return ExitCode.ok
  },
})
