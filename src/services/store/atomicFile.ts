/**
 * Crash-safe file primitives. Owns: the temp-file + fsync + rename + directory-fsync protocol, the
 * coalescing of concurrent writes of one file, moving corrupt files aside, and appending durable lines.
 * Does not own: what the files mean (the Store decides that).
 *
 * These are promise-based on purpose: they sit under the Store on the hot path of every run update,
 * and the Store lifts them into Effect at its boundary.
 */
import { open, readFile, rename, rm } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"

/** fsync a directory so that a rename inside it survives a power loss, not only a process crash. */
const syncDirectory = async (dir: string): Promise<void> => {
  const handle = await open(dir, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export interface WriteOptions {
  /** File mode for a new file, e.g. 0o600 for files that hold secrets. */
  readonly mode?: number
}

let tempCounter = 0

/**
 * Replace `path` with `data` so that a crash at any moment leaves either the old or the new content,
 * never a mix: the bytes go to a temp file in the same directory, are fsynced, renamed over the
 * target, and the directory is fsynced so the rename itself is durable.
 */
export const writeFileAtomic = async (
  path: string,
  data: string,
  options: WriteOptions = {},
): Promise<void> => {
  tempCounter += 1
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${tempCounter}.tmp`)
  const handle = await open(temp, "w", options.mode ?? PRIVATE_FILE_MODE)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temp, { force: true })
    throw error
  }
  await handle.close()
  await rename(temp, path)
  await syncDirectory(dirname(path))
}

/** Append lines and fsync before resolving: an archived run is on disk before it leaves the registry. */
export const appendDurable = async (path: string, data: string): Promise<number> => {
  const handle = await open(path, "a", PRIVATE_FILE_MODE)
  try {
    const { size } = await handle.stat()
    await handle.writeFile(data)
    await handle.sync()
    return size
  } finally {
    await handle.close()
  }
}

/** The file's bytes, or null when it does not exist. */
export const readBytesIfExists = async (path: string): Promise<Buffer | null> => {
  try {
    return await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null
    throw error
  }
}

/** The file's text, or null when it does not exist. */
export const readTextIfExists = async (path: string): Promise<string | null> =>
  (await readBytesIfExists(path))?.toString("utf8") ?? null

/** Move a file that failed to decode to `<name>.corrupt-<time>` so nothing overwrites the evidence. */
export const moveAside = async (path: string, now: Date): Promise<string> => {
  const target = `${path}.corrupt-${now.toISOString().replaceAll(":", "-")}`
  await rename(path, target)
  await syncDirectory(dirname(path))
  return target
}

/**
 * Serialises writes of one file and coalesces the ones that arrive while a write is under way:
 * every `save` resolves only once a write that includes its value is on disk, and a burst of N saves
 * costs at most two writes. A failed write rejects every save that was waiting on it.
 */
export class CoalescingWriter {
  private pending: {
    data: () => string
    waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>
  } | null = null
  private writing = false
  private completedWrites = 0
  private readonly path: string
  private readonly options: WriteOptions

  constructor(path: string, options: WriteOptions = {}) {
    this.path = path
    this.options = options
  }

  /** How many writes reached the disk; a burst of saves counts once or twice, not once per save. */
  get writes(): number {
    return this.completedWrites
  }

  /** `data` is called when the write starts, so it serialises the newest state, not the state at call time. */
  save(data: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending === null) this.pending = { data, waiters: [] }
      else this.pending.data = data
      this.pending.waiters.push({ resolve, reject })
      if (!this.writing) void this.drain()
    })
  }

  private async drain(): Promise<void> {
    this.writing = true
    while (this.pending !== null) {
      const batch = this.pending
      this.pending = null
      try {
        await writeFileAtomic(this.path, batch.data(), this.options)
        this.completedWrites += 1
        for (const w of batch.waiters) w.resolve()
      } catch (error) {
        for (const w of batch.waiters) w.reject(error)
      }
    }
    this.writing = false
  }
}
