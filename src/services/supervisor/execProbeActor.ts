/**
 * The `execProbe` actor of exec mode: asks the codex binary its version once, so a binary that cannot
 * run is reported when the daemon starts rather than at its first run. The answer is the child's
 * userAgent (`codex-cli 0.169.0`); a failure is its last error. Stopping the actor ends the probe.
 */
import * as Effect from "effect/Effect"
import { execa } from "execa"
import type { ChildMachineEvent, ChildProcessInput } from "../../machines/childMachine.ts"
import type { Bridge } from "../runtime.ts"
import { eventTime } from "./attachment.ts"

const PROBE_TIMEOUT_MS = 20_000

export const execProbeActor = (bridge: Bridge<never>) =>
  bridge.fromScoped<ChildMachineEvent, ChildProcessInput>((input, sendBack) =>
    Effect.gen(function* () {
      const probe = yield* Effect.promise((signal) =>
        execa(input.command, [...input.args], {
          cwd: input.cwd,
          stdin: "ignore",
          reject: false,
          timeout: PROBE_TIMEOUT_MS,
          cancelSignal: signal,
        }),
      )
      const at = yield* eventTime
      const answer = String(probe.stdout).trim()
      if (probe.exitCode === 0 && answer !== "") {
        sendBack({ type: "CHILD.READY", userAgent: answer, ...at })
        return
      }
      // What the binary said on stderr explains best; a binary that never ran has only execa's account.
      const stderrTail = String(probe.stderr).trim().split("\n").at(-1) ?? ""
      const said = stderrTail !== "" ? stderrTail : "shortMessage" in probe ? String(probe.shortMessage) : ""
      sendBack({
        type: "CHILD.EXITED",
        exitCode: probe.exitCode ?? null,
        signal: probe.signal ?? null,
        error: `${input.command} ${input.args.join(" ")} failed${said === "" ? "" : `: ${said}`}`,
        ...at,
      })
    }),
  )
