/**
 * `codexd logs [-f] [-n N] [--daemon|--child]`: the last lines of daemon.log (the daemon's own life,
 * shown as time, level and message) and child.stderr.log (what codex printed), then, with `-f`, what
 * is appended to them as it comes, across rotations. Read from the files, so it works with or without
 * a running daemon.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs"
import type { ResolvedConfig } from "../domain/config.ts"
import { type CliIo, type Command, ExitCode } from "./command.ts"

interface LogFile {
  readonly label: string
  readonly path: string
  /** How one line is shown. */
  readonly show: (line: string) => string
}

/** A pino line as `time level message`; anything else as it is. */
const daemonLine = (line: string): string => {
  try {
    const entry = JSON.parse(line) as { time?: string; level?: string; msg?: string; cause?: string }
    return `${entry.time ?? ""} ${(entry.level ?? "").padEnd(5)} ${entry.msg ?? ""}${entry.cause ? `\n${entry.cause}` : ""}`
  } catch {
    return line
  }
}

const sizeOf = (path: string): number | null => {
  try {
    return statSync(path).size
  } catch {
    return null
  }
}

/** Bytes `from` up to `to` (default: the end) of `path` ("" when it cannot be read). */
const readFrom = (path: string, from: number, to?: number): string => {
  const size = Math.min(sizeOf(path) ?? 0, to ?? Number.POSITIVE_INFINITY)
  if (size <= from) return ""
  const fd = openSync(path, "r")
  try {
    const buffer = Buffer.alloc(size - from)
    readSync(fd, buffer, 0, buffer.length, from)
    return buffer.toString("utf8")
  } finally {
    closeSync(fd)
  }
}

/** The last `count` lines before byte `end`, read from the end so a large log costs only what is shown. */
const lastLines = (path: string, count: number, end: number): Array<string> => {
  if (count === 0) return []
  let from = end
  let text = ""
  while (from > 0 && text.split("\n").length <= count + 1) {
    from = Math.max(0, from - 64 * 1024)
    text = readFrom(path, from, end)
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .slice(-count)
}

const files = (config: ResolvedConfig, which: "daemon" | "child" | "both"): Array<LogFile> => [
  ...(which === "child" ? [] : [{ label: "daemon.log", path: config.paths.daemonLogPath, show: daemonLine }]),
  ...(which === "daemon"
    ? []
    : [{ label: "child.stderr.log", path: config.paths.stderrLogPath, show: (l: string) => l }]),
]

/** Print what each file gains, until stopped; a file that shrank was rotated and is read from its start. */
const follow = async (
  logs: ReadonlyArray<LogFile>,
  offsets: Map<string, number>,
  io: CliIo,
  tagged: boolean,
): Promise<never> => {
  const partial = new Map<string, string>()
  for (;;) {
    await new Promise((r) => setTimeout(r, 200))
    for (const log of logs) {
      const size = sizeOf(log.path) ?? 0
      let offset = offsets.get(log.path) ?? 0
      if (size < offset) offset = 0
      if (size === offset) continue
      const text = (partial.get(log.path) ?? "") + readFrom(log.path, offset)
      offsets.set(log.path, size)
      const lines = text.split("\n")
      partial.set(log.path, lines.pop() ?? "")
      for (const line of lines)
        if (line !== "") io.out(`${tagged ? `[${log.label}] ` : ""}${log.show(line)}\n`)
    }
  }
}

export const logsCommand: Command = {
  name: "logs",
  summary: "print the daemon's log and the child's stderr (-f: keep following them)",
  usage: "codexd logs [-f|--follow] [-n N] [--daemon|--child]",
  flags: {
    follow: { kind: "boolean", short: "f", describe: "keep printing lines as they are written" },
    lines: {
      kind: "string",
      short: "n",
      placeholder: "N",
      describe: "how many last lines of each (default 20)",
    },
    daemon: { kind: "boolean", describe: "only daemon.log" },
    child: { kind: "boolean", describe: "only the child's stderr (child.stderr.log)" },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const count = args.flags.lines === undefined ? 20 : Number(args.flags.lines)
    if (!Number.isSafeInteger(count) || count < 0) {
      io.err("codexd logs: -n must be a non-negative integer\n")
      return ExitCode.usage
    }
    if (args.flags.daemon === true && args.flags.child === true) {
      io.err("codexd logs: --daemon and --child together are both logs: leave both out\n")
      return ExitCode.usage
    }
    const which = args.flags.daemon === true ? "daemon" : args.flags.child === true ? "child" : "both"
    const logs = files(config, which)
    // Where each file ends now: the tail is what comes before, following starts there, so a line
    // written while the tail is printed is shown once, by the follow.
    const offsets = new Map(logs.map((log) => [log.path, sizeOf(log.path) ?? 0]))
    for (const log of logs) {
      if (which === "both") io.out(`== ${log.label} (${log.path})\n`)
      const lines = lastLines(log.path, count, offsets.get(log.path) ?? 0)
      if (lines.length > 0) io.out(`${lines.map(log.show).join("\n")}\n`)
      else if (count > 0) io.out("(empty)\n")
    }
    if (args.flags.follow !== true) return ExitCode.ok
    return follow(logs, offsets, io, which === "both")
  },
}
