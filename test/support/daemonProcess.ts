/** A real `codexd start` process for tests, with its output collected and a way to wait for lines. */
import { execa, type ResultPromise } from "execa"
import { DAEMON_NODE_FLAGS } from "../../src/system/packageRoot.ts"
import { codexdBin } from "./cli.ts"

// A free port, so test files running side by side never collide.
const daemonOptions = (cwd: string, env: Record<string, string>) =>
  ({
    cwd,
    env: { CODEXD_API_BASE: "http://127.0.0.1:0", ...env },
    extendEnv: true,
    reject: false,
    all: true,
    buffer: false,
  }) as const

export interface DaemonProcess {
  readonly child: ResultPromise<ReturnType<typeof daemonOptions>>
  readonly pid: number
  /** The exit code once the process has exited, else undefined. */
  readonly exitCode: () => number | null | undefined
  readonly output: () => string
  readonly waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  readonly stop: () => Promise<void>
}

export const startDaemonProcess = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  cwd: string,
): DaemonProcess => {
  // The flags its shebang line gives it when run as `codexd start`.
  const child = execa(
    process.execPath,
    [...DAEMON_NODE_FLAGS, codexdBin, "start", ...args],
    daemonOptions(cwd, env),
  )
  let output = ""
  let exited = false
  let exitCode: number | null | undefined
  void child.then((result) => {
    exited = true
    exitCode = result.exitCode ?? null
  })
  child.all?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8")
  })
  const waitForOutput = async (pattern: RegExp, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(output)
      if (match) return match[0]
      if (Date.now() > until || exited) throw new Error(`no ${pattern} in daemon output:\n${output}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  return {
    child,
    pid: child.pid ?? 0,
    exitCode: () => (exited ? exitCode : undefined),
    output: () => output,
    waitForOutput,
    stop: async () => {
      child.kill("SIGTERM")
      await child
    },
  }
}
