/** `codexd stop`: stop the daemon that holds this state directory, and wait until it is gone. */
import { lockHolder } from "../services/StateLock.ts"
import { isProcessAlive } from "../services/staleChild.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

export const stopCommand: Command = {
  name: "stop",
  summary: "stop the running daemon (its child is stopped gracefully first)",
  usage: "codexd stop [--json] [--timeout-ms MS]",
  flags: {
    ...jsonFlag,
    "timeout-ms": {
      kind: "string",
      placeholder: "MS",
      describe: "how long to wait for it to stop (default 30000)",
    },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const timeoutRaw = args.flags["timeout-ms"]
    const timeoutMs = typeof timeoutRaw === "string" ? Number(timeoutRaw) : 30_000
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      io.err(`codexd stop: --timeout-ms must be a positive integer, not ${JSON.stringify(timeoutRaw)}\n`)
      return ExitCode.usage
    }
    const pid = lockHolder(config.paths.lockPath)
    const json = args.flags.json === true
    if (pid === null) {
      if (json) io.out(`${JSON.stringify({ stopped: false, pid: null, reason: "no daemon is running" })}\n`)
      io.err(`codexd stop: no daemon is running on ${config.paths.stateDir}\n`)
      return ExitCode.noDaemon
    }
    try {
      process.kill(pid, "SIGTERM")
    } catch {
      // It exited between the lock check and now: the wait below sees it gone.
    }
    const until = Date.now() + timeoutMs
    while (isProcessAlive(pid)) {
      if (Date.now() > until) {
        if (json) io.out(`${JSON.stringify({ stopped: false, pid, reason: "timed out" })}\n`)
        io.err(`codexd stop: pid ${pid} did not stop within ${timeoutMs} ms\n`)
        return ExitCode.failed
      }
      await new Promise((r) => setTimeout(r, 25))
    }
    io.out(json ? `${JSON.stringify({ stopped: true, pid })}\n` : `codexd stopped (pid ${pid})\n`)
    return ExitCode.ok
  },
}
