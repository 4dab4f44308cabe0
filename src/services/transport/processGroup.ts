/**
 * Signalling a child started in its own process group (`detached`), so a signal reaches everything
 * it started too, and stopping it: SIGTERM, then SIGKILL if it is still alive after the kill timeout.
 */

import * as Schema from "effect/Schema"

/** A process could not be started at all (no such binary, no permission, no pid). */
export class SpawnError extends Schema.TaggedError<SpawnError>()("SpawnError", {
  command: Schema.String,
  cause: Schema.String,
}) {
  override get message(): string {
    return `could not start ${this.command}: ${this.cause}`
  }
}

/**
 * The execa options of a supervised child: its own process group (so signals reach what it started),
 * killed if the daemon exits normally, streamed rather than buffered, and never a thrown exit.
 */
export const processGroupOptions = {
  detached: true,
  cleanup: true,
  buffer: false,
  reject: false,
  encoding: "buffer",
} as const

export const signalGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/** SIGTERM to the group, SIGKILL after `killTimeoutMs`; resolves with the exit once it has happened. */
export const stopGroup = async <Exit>(
  pid: number,
  exited: Promise<Exit>,
  hasExited: () => boolean,
  killTimeoutMs: number,
): Promise<Exit> => {
  if (hasExited()) return exited
  signalGroup(pid, "SIGTERM")
  const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), killTimeoutMs)
  timer.unref()
  const result = await exited
  clearTimeout(timer)
  return result
}
