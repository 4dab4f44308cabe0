/**
 * The state-directory lock: one daemon per state directory. The lock file holds the owner's pid;
 * it is created atomically (a temp file hard-linked into place fails if the lock exists), a lock
 * whose pid is no longer alive is stale and taken over, and release removes it only if it is ours.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import * as Schema from "effect/Schema"
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"
import { isProcessAlive } from "../../system/processes.ts"

export class LockHeldError extends Schema.TaggedError<LockHeldError>()("LockHeldError", {
  lockPath: Schema.String,
  pid: Schema.Int,
}) {
  override get message(): string {
    return `another codexd (pid ${this.pid}) already runs on this state directory (${this.lockPath})`
  }
}

/** The pid recorded in the lock file, or null when there is no readable lock. */
export const readLockPid = (lockPath: string): number | null => {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/** The pid of the live daemon holding the lock, or null when none does. */
export const lockHolder = (lockPath: string): number | null => {
  const pid = readLockPid(lockPath)
  return pid !== null && isProcessAlive(pid) ? pid : null
}

export interface HeldLock {
  readonly release: () => void
  /** True when a stale lock of a dead daemon was taken over. */
  readonly tookOverFrom: number | null
}

export const acquireLock = (lockPath: string, pid = process.pid): HeldLock | LockHeldError => {
  mkdirSync(dirname(lockPath), { recursive: true, mode: PRIVATE_DIR_MODE })
  const temp = `${lockPath}.${pid}.tmp`
  writeFileSync(temp, `${pid}\n`, { mode: PRIVATE_FILE_MODE })
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
      const holder = readLockPid(lockPath)
      if (holder !== null && holder !== pid && isProcessAlive(holder))
        return new LockHeldError({ lockPath, pid: holder })
      // Stale (its daemon is gone) or unreadable: remove it and try again.
      tookOverFrom = holder
      try {
        unlinkSync(lockPath)
      } catch {
        // Someone else removed it first; the next link decides.
      }
    }
    const holder = readLockPid(lockPath) ?? 0
    return new LockHeldError({ lockPath, pid: holder })
  } finally {
    rmSync(temp, { force: true })
  }
}
