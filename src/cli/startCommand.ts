/**
 * `codexd start [--detach]`: run the daemon in the foreground until SIGINT/SIGTERM, or start it in
 * the background and return once it is ready (exit 0) or has failed (exit 1 with the reason).
 */

import { spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { ResolvedConfig } from "../domain/config.ts"
import { isChildSettled } from "../machines/childMachine.ts"
import { describeChild, readStatus } from "../services/status/statusSnapshot.ts"
import { lockHolder } from "../services/store/StateLock.ts"
import { codexdEntry, DAEMON_NODE_FLAGS } from "../system/packageRoot.ts"
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../system/privateFiles.ts"
import { isProcessAlive } from "../system/processes.ts"
import { type CliIo, type Command, type CommandContext, ExitCode, jsonFlag } from "./command.ts"

/** Kept here rather than imported from the inspector, so `codexd help` does not load the daemon. */
const DEFAULT_INSPECT_PORT = 4320

/** Where a detached daemon's own stdout and stderr go (its structured logs are in daemon.log). */
const detachedOutputPath = (config: ResolvedConfig) => join(config.paths.logsDir, "daemon.out")

const tail = (path: string, lines: number): string => {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-lines).join("\n")
  } catch {
    return ""
  }
}

const startDetached = async (
  config: ResolvedConfig,
  argv: ReadonlyArray<string>,
  io: CliIo,
  json: boolean,
  run: CommandContext["run"],
) => {
  const holder = lockHolder(config.paths.lockPath)
  if (holder !== null) {
    io.err(`codexd start: another codexd (pid ${holder}) already runs on ${config.paths.stateDir}\n`)
    return ExitCode.usage
  }
  ensurePrivateDir(config.paths.logsDir, [config.paths.logsRootDir])
  const outputPath = detachedOutputPath(config)
  const output = openSync(outputPath, "a", PRIVATE_FILE_MODE)
  // A plain detached spawn: the daemon must outlive this command, so nothing may tie it to us.
  const args = [...DAEMON_NODE_FLAGS, codexdEntry, "start", ...argv.filter((a) => a !== "--detach")]
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", output, output] })
  closeSync(output)
  child.unref()
  const pid = child.pid ?? 0
  // Ready means: this daemon holds the lock and recorded a settled child in the daemon state.
  for (const until = Date.now() + 120_000; Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 50))
    if (!isProcessAlive(pid)) {
      const reason = tail(outputPath, 5) || "the daemon exited before it was ready"
      if (json) io.out(`${JSON.stringify({ ready: false, pid, reason })}\n`)
      io.err(`codexd start: failed: ${reason}\n`)
      return ExitCode.failed
    }
    if (lockHolder(config.paths.lockPath) !== pid) continue
    const { snapshot } = await run(readStatus(config))
    const daemon = snapshot?.daemon
    // Settled and not given up: a daemon whose child failed exits, and is seen above. In exec mode
    // a probe that failed is settled too, but that daemon is about to exit: ready needs the version.
    // A stopped child is the daemon on its way out after a failed start (it stops the child before
    // it records itself stopped): not ready either.
    const child = daemon?.child
    const settled =
      child !== undefined &&
      isChildSettled(child) &&
      child.status !== "failed" &&
      child.status !== "stopped" &&
      (child.mode !== "exec" || child.userAgent !== null)
    if (daemon?.pid === pid && daemon.started && settled) {
      if (json)
        io.out(
          `${JSON.stringify({ ready: true, pid, childPid: daemon.child.pid, apiBase: daemon.apiBase })}\n`,
        )
      else
        io.out(
          `codexd ready: pid ${pid}, ${describeChild(daemon.child)}, api ${daemon.apiBase ?? "none"} (detached; logs in ${config.paths.logsDir})\n`,
        )
      return ExitCode.ok
    }
  }
  io.err(`codexd start: pid ${pid} was not ready within 120 s; see ${outputPath}\n`)
  return ExitCode.failed
}

export const startCommand = (argv: () => ReadonlyArray<string>): Command => ({
  name: "start",
  summary: "run the daemon (foreground until SIGINT/SIGTERM; --detach returns once it is ready)",
  usage: "codexd start [--detach] [--json] [--inspect[=PORT]]",
  flags: {
    ...jsonFlag,
    detach: {
      kind: "boolean",
      describe: "start in the background; exit 0 once ready, 1 with the reason if it failed",
    },
    inspect: {
      kind: "optional",
      placeholder: "PORT",
      describe: `serve the Stately inspector on 127.0.0.1 (default port ${DEFAULT_INSPECT_PORT}) and attach every machine`,
    },
  },
  needsConfig: true,
  run: async ({ args, config, io, run }) => {
    const json = args.flags.json === true
    if (args.flags.detach === true) return startDetached(config, argv(), io, json, run)
    const inspect = args.flags.inspect
    const inspectPort =
      inspect === undefined ? undefined : inspect === true ? DEFAULT_INSPECT_PORT : Number(inspect)
    if (
      inspectPort !== undefined &&
      (!Number.isSafeInteger(inspectPort) || inspectPort < 0 || inspectPort > 65535)
    ) {
      io.err(`codexd start: --inspect takes a port number (0-65535), not ${JSON.stringify(inspect)}\n`)
      return ExitCode.usage
    }
    // Loaded here, not at the top: the daemon's modules are heavy and other commands need none of them.
    const { runDaemon } = await import("../daemon.ts")
    const outcome = await runDaemon(
      config,
      {
        ready: (line) =>
          io.out(json ? `${JSON.stringify({ ready: true, pid: process.pid, line })}\n` : `${line}\n`),
        failed: (reason) => {
          if (json) io.out(`${JSON.stringify({ ready: false, pid: process.pid, reason })}\n`)
          io.err(`codexd start: ${reason}\n`)
        },
        note: (line) => (json ? io.err(`${line}\n`) : io.out(`${line}\n`)),
      },
      inspectPort === undefined ? {} : { inspectPort },
    )
    switch (outcome._tag) {
      case "Stopped":
        return ExitCode.ok
      case "LockHeld":
        io.err(`codexd start: ${outcome.error.message}\n`)
        return ExitCode.usage
      case "ChildFailed":
      case "Failed":
        return ExitCode.failed
    }
  },
})
