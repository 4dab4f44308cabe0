/**
 * Spawning an app-server child with execa and exposing its stdio as a Transport.
 * The child gets its own process group (so a kill reaches anything it started), inherits the
 * environment (so CODEX_HOME and API keys reach codex), and its stderr goes to a log file (its last
 * line kept, to say why a child died).
 * Killing is SIGTERM to the group, then SIGKILL after `killTimeoutMs` if it is still alive.
 */
import { execa } from "execa"
import { processGroupOptions, SpawnError, signalGroup, stopGroup } from "./processGroup.ts"
import { captureStderr, type StderrLog } from "./stderrTail.ts"
import { type ChildExit, stdioTransport } from "./stdioTransport.ts"
import type { Transport } from "./Transport.ts"

export interface AppServerProcessOptions {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Append the child's stderr here; discarded when absent. */
  readonly stderrLog?: StderrLog
  readonly onRawLine?: (direction: "in" | "out", line: string) => void
}

export interface AppServerProcess {
  readonly pid: number
  readonly transport: Transport
  readonly exited: Promise<ChildExit>
  /** SIGTERM to the process group, SIGKILL after `killTimeoutMs`; resolves once it has exited. */
  readonly stop: (killTimeoutMs: number) => Promise<ChildExit>
  /** The last line the child wrote on stderr ("" when none). */
  readonly lastStderrLine: () => string
  /** Send one signal to the process group now. */
  readonly signal: (signal: NodeJS.Signals) => void
}

/** Start the child; a SpawnError when there is no process to supervise. */
export const spawnAppServer = (options: AppServerProcessOptions): AppServerProcess => {
  const start = () =>
    execa(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? {},
      extendEnv: options.env === undefined,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      ...processGroupOptions,
    })
  let child: ReturnType<typeof start>
  try {
    child = start()
  } catch (error) {
    throw new SpawnError({ command: options.command, cause: String(error) })
  }
  const pid = child.pid
  if (pid === undefined || child.stdout === null || child.stdin === null || child.stderr === null) {
    void child.catch(() => undefined)
    throw new SpawnError({ command: options.command, cause: "no process was started" })
  }
  const stderr = captureStderr(child.stderr, options.stderrLog)
  let exitedFlag = false
  const exited: Promise<ChildExit> = child.then((result) => {
    exitedFlag = true
    // Whatever the child left in its group (a command it ran, a helper) goes with it.
    signalGroup(pid, "SIGKILL")
    const spawnFailed = result.failed && result.exitCode === undefined && result.signal === undefined
    return {
      exitCode: result.exitCode ?? (spawnFailed ? 127 : null),
      signal: result.signal ?? null,
    }
  })
  const transport = stdioTransport({
    describe: `stdio (pid ${pid})`,
    stdout: child.stdout,
    stdin: child.stdin,
    exited,
    ...(options.onRawLine === undefined ? {} : { onRawLine: options.onRawLine }),
  })
  return {
    pid,
    transport,
    exited,
    lastStderrLine: stderr.lastLine,
    signal: (signal) => signalGroup(pid, signal),
    stop: (killTimeoutMs) => stopGroup(pid, exited, () => exitedFlag, killTimeoutMs),
  }
}
