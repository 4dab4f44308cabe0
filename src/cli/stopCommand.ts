/**
 * `codexd stop`: stop the daemon that holds this state directory, and wait until it is gone. Asked
 * through the API (`POST /v1/shutdown`), which works wherever the API is reachable; a daemon whose API
 * does not answer is sent SIGTERM instead, which it handles the same way.
 */

import { connectApi } from "../client/apiConnection.ts"
import type { ResolvedConfig } from "../domain/config.ts"
import { lockHolder } from "../services/store/StateLock.ts"
import { isProcessAlive } from "../system/processes.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

/** How the stop was asked for: through the API, or by signal when the API did not answer. */
const askToStop = async (config: ResolvedConfig, pid: number): Promise<"api" | "signal"> => {
  const api = connectApi(config)
  if (!("noDaemon" in api)) {
    const reply = await api.call("POST", "/v1/shutdown").catch(() => null)
    if (reply?.status === 202) return "api"
  }
  try {
    process.kill(pid, "SIGTERM")
  } catch {
    // It exited between the lock check and now: the wait below sees it gone.
  }
  return "signal"
}

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
    const via = await askToStop(config, pid)
    const until = Date.now() + timeoutMs
    while (isProcessAlive(pid)) {
      if (Date.now() > until) {
        if (json) io.out(`${JSON.stringify({ stopped: false, pid, reason: "timed out" })}\n`)
        io.err(`codexd stop: pid ${pid} did not stop within ${timeoutMs} ms\n`)
        return ExitCode.failed
      }
      await new Promise((r) => setTimeout(r, 25))
    }
    io.out(json ? `${JSON.stringify({ stopped: true, pid, via })}\n` : `codexd stopped (pid ${pid})\n`)
    return ExitCode.ok
  },
}
