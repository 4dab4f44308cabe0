/**
 * Facts about other processes, from signals and (on Linux) /proc: whether a pid is alive and not a
 * zombie, and its state letter. General helpers; what a process means is the caller's business.
 */
import { readFileSync } from "node:fs"

/** A file of /proc/PID, or null when there is no such process (or no /proc). */
export const readProc = (pid: number, file: string): string | null => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8")
  } catch {
    return null
  }
}

/** The process state letter from /proc/PID/stat (R, S, D, Z, T, ...), or null if there is no such process. */
export const processState = (pid: number): string | null => {
  const stat = readProc(pid, "stat")
  if (stat === null) return null
  // The command name is in parentheses and may contain spaces; the state follows the last ')'.
  const afterName = stat.slice(stat.lastIndexOf(")") + 2)
  return afterName.charAt(0) || null
}

/**
 * When the process started (clock ticks since boot, /proc/PID/stat field 22), or null without /proc.
 * With the pid it names one process for good: a pid reused after a crash or reboot has another.
 */
export const processStartTime = (pid: number): string | null => {
  const stat = readProc(pid, "stat")
  if (stat === null) return null
  // Fields after the command name start at field 3 (the state); the start time is field 22.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null
}

export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return processState(pid) !== "Z"
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** A process's resident memory in MB, from /proc (null where there is no /proc, or no such process). */
export const residentMb = (pid: number | null): number | null => {
  if (pid === null) return null
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readProc(pid, "status") ?? "")?.[1]
  return kb === undefined ? null : Number(kb) / 1024
}
