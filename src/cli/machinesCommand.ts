/** `codexd machines [--json|--mermaid]`: the state machines codexd runs, as data or as diagrams. */
import { toMermaid } from "../machines/mermaid.ts"
import { machines } from "../machines/registry.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

export const machinesCommand: Command = {
  name: "machines",
  summary: "print the state machines (definition JSON, or Mermaid state diagrams)",
  usage: "codexd machines [--json | --mermaid]",
  flags: {
    ...jsonFlag,
    mermaid: { kind: "boolean", describe: "print a Mermaid stateDiagram-v2 per machine" },
  },
  needsConfig: false,
  run: async ({ args, io }) => {
    if (args.flags.json === true && args.flags.mermaid === true) {
      io.err("codexd machines: --json and --mermaid exclude each other\n")
      return ExitCode.usage
    }
    if (args.flags.json === true) {
      io.out(
        `${JSON.stringify(Object.fromEntries(machines.map(([name, m]) => [name, m.toJSON()])), null, 2)}\n`,
      )
    } else if (args.flags.mermaid === true) {
      io.out(machines.map(([name, m]) => `%% ${name}\n${toMermaid(m)}`).join("\n"))
    } else {
      for (const [name, m] of machines) {
        const states = Object.keys(m.root.states)
        io.out(`${name}: ${states.join(", ")}\n`)
      }
      io.out("(--json for the full definitions, --mermaid for diagrams)\n")
    }
    return ExitCode.ok
  },
}
