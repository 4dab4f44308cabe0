/**
 * The `execProbe` actor of exec mode: asks the codex binary its version once, so a binary that cannot
 * run is reported when the daemon starts rather than at its first run. The answer is the child's
 * userAgent (`codex-cli 0.169.0`); a failure is its last error.
 */
import { execa } from "execa"
import { fromCallback } from "xstate"
import type { ChildMachineEvent, ChildProcessInput } from "../../machines/childMachine.ts"
import { eventTime } from "./attachment.ts"

const PROBE_TIMEOUT_MS = 20_000

export const execProbeActor = () =>
  fromCallback<ChildMachineEvent, ChildProcessInput>(({ sendBack, input }) => {
    const controller = new AbortController()
    void execa(input.command, [...input.args], {
      cwd: input.cwd,
      stdin: "ignore",
      reject: false,
      timeout: PROBE_TIMEOUT_MS,
      cancelSignal: controller.signal,
    }).then((probe) => {
      if (controller.signal.aborted) return
      const answer = String(probe.stdout).trim()
      if (probe.exitCode === 0 && answer !== "") {
        sendBack({ type: "CHILD.READY", userAgent: answer, at: eventTime().at })
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
        ...eventTime(),
      })
    })
    return () => controller.abort()
  })
