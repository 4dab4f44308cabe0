/**
 * `codexd smoke [--json]`: check the daemon end to end (see `smoke/runSmoke.ts`); exit 0 only when
 * every check is ok. Human output prints each check as it finishes; `--json` prints the smoke result.
 */
import { type Command, ExitCode, jsonFlag } from "./command.ts"
import { runSmoke } from "./smoke/runSmoke.ts"

export const smokeCommand: Command = {
  name: "smoke",
  summary:
    "check everything end to end with one small real turn (uses the running daemon, or starts one for the smoke)",
  usage: "codexd smoke [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: async ({ args, config, io, run }) => {
    const json = args.flags.json === true
    const width = 12
    const result = await runSmoke(
      config,
      (check) => {
        if (!json)
          io.out(
            `${check.status === "ok" ? "ok    " : "FAILED"}  ${check.name.padEnd(width)}  ${check.detail}\n`,
          )
      },
      run,
    )
    const failures = result.checks.filter((c) => c.status === "failed").length
    if (json) io.out(`${JSON.stringify(result, null, 2)}\n`)
    else
      io.out(
        failures === 0
          ? `smoke ok: ${result.checks.length} checks passed\n`
          : `smoke failed: ${failures} of ${result.checks.length} checks failed\n`,
      )
    return failures === 0 ? ExitCode.ok : ExitCode.failed
  },
}
