/**
 * The state-directory lock: one daemon per state directory. The lock file holds the owner's pid and
 * its start time; it is created atomically (a temp file hard-linked into place fails if the lock
 * exists), a lock whose process is gone is stale and taken over, and release removes it only if it is
 * ours. A pid alone is not trusted: after a crash or a reboot another process may have it, so its
 * start time must match too before the lock counts as held (or anyone signals that pid).
 */
import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import * as Schema from "effect/Schema"
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"
import { isProcessAlive, processStartTime } from "../../system/processes.ts"

export class LockHeldError extends Schema.TaggedError<LockHeldError>()("LockHeldError", {
  lockPath: Schema.String,
  pid: Schema.Int,
  /** What the lock guards, in words: "this state directory", "CODEX_HOME /home/me/.codex". */
  guards: Schema.String,
}) {
  override get message(): string {
    return `another codexd (pid ${this.pid}) already runs on ${this.guards} (${this.lockPath})`
  }
}

interface LockOwner {
  readonly pid: number
  /** Null in a lock written without one (or where there is no /proc). */
  readonly startTime: string | null
}

const readLock = (lockPath: string): LockOwner | null => {
  try {
    const [pidText, startTime] = readFileSync(lockPath, "utf8").trim().split(/\s+/)
    const pid = Number.parseInt(pidText ?? "", 10)
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, startTime: startTime ?? null } : null
  } catch {
    return null
  }
}

/** The pid recorded in the lock file, or null when there is no readable lock. */
export const readLockPid = (lockPath: string): number | null => readLock(lockPath)?.pid ?? null

/** The process the lock names is alive and is the one that wrote it. */
const isOwnerAlive = (owner: LockOwner): boolean => {
  if (!isProcessAlive(owner.pid)) return false
  const startTime = owner.startTime === null ? null : processStartTime(owner.pid)
  return startTime === null || startTime === owner.startTime
}

/** The pid of the live daemon holding the lock, or null when none does. */
export const lockHolder = (lockPath: string): number | null => {
  const owner = readLock(lockPath)
  return owner !== null && isOwnerAlive(owner) ? owner.pid : null
}

export interface HeldLock {
  readonly release: () => void
  /** True when a stale lock of a dead daemon was taken over. */
  readonly tookOverFrom: number | null
}

export const acquireLock = (
  lockPath: string,
  pid = process.pid,
  guards = "this state directory",
): HeldLock | LockHeldError => {
  mkdirSync(dirname(lockPath), { recursive: true, mode: PRIVATE_DIR_MODE })
  const temp = `${lockPath}.${pid}.tmp`
  writeFileSync(temp, `${pid} ${processStartTime(pid) ?? ""}\n`, { mode: PRIVATE_FILE_MODE })
  let tookOverFrom: number | null = null
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(temp, lockPath)
        return {
          tookOverFrom,
          release: () => {
            if (readLockPid(lockPath) === pid) rmSync(lockPath, { force: true })
          },
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      }
      const holder = readLock(lockPath)
      if (holder !== null && holder.pid !== pid && isOwnerAlive(holder))
        return new LockHeldError({ lockPath, pid: holder.pid, guards })
      // Stale (its daemon is gone, or its pid now names another process) or unreadable: take it over.
      tookOverFrom = holder?.pid ?? null
      try {
        unlinkSync(lockPath)
      } catch {
        // Someone else removed it first; the next link decides.
      }
    }
    const holder = readLockPid(lockPath) ?? 0
    return new LockHeldError({ lockPath, pid: holder, guards })
  } finally {
    rmSync(temp, { force: true })
  }
}
