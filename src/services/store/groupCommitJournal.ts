/**
 * An append-only journal file with group commit: every line that is waiting when a write starts goes
 * into that one write, so a burst of N appends costs one disk round trip, not N. The file is opened
 * O_DSYNC, so a write returns only once its data is on disk (one call where write + fdatasync are two).
 * Each `append` resolves only once its line is durable.
 *
 * Compaction happens between two commits, never during one: when `shouldCompact` says the journal has
 * grown enough, the owner writes a snapshot that covers every line appended so far (`compact`), and
 * the journal is emptied. A crash between the snapshot and the truncation leaves lines the snapshot
 * already holds; the owner recognises them on replay (by a sequence number in each line).
 *
 * Promise-based for the same reason as `atomicFile.ts`: it sits under the Store on the hot path.
 */
import { constants as fsConstants } from "node:fs"
import { type FileHandle, open } from "node:fs/promises"
import { PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"

interface Waiter {
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

export interface JournalPolicy {
  /** Asked after each commit with the journal's size in bytes. */
  readonly shouldCompact: (journalBytes: number) => boolean
  /** Make a snapshot durable that holds everything appended so far; the journal is emptied after it. */
  readonly compact: () => Promise<void>
}

export class GroupCommitJournal {
  private pending: Array<string> = []
  private waiting: Array<Waiter> = []
  /** What must be durable elsewhere before the waiting lines may be (e.g. the archive a drop moves to). */
  private prerequisites: Array<Promise<void>> = []
  private draining: Promise<void> | null = null
  private compactionWaiters: Array<Waiter> = []
  private bytes: number
  private commits = 0
  private closed = false
  private readonly handle: FileHandle
  private readonly policy: JournalPolicy

  private constructor(handle: FileHandle, initialBytes: number, policy: JournalPolicy) {
    this.handle = handle
    this.bytes = initialBytes
    this.policy = policy
  }

  static async open(path: string, policy: JournalPolicy): Promise<GroupCommitJournal> {
    const { O_APPEND, O_CREAT, O_WRONLY, O_DSYNC } = fsConstants
    const handle = await open(path, O_APPEND | O_CREAT | O_WRONLY | O_DSYNC, PRIVATE_FILE_MODE)
    const { size } = await handle.stat()
    return new GroupCommitJournal(handle, size, policy)
  }

  /** How many fsynced writes the journal made: a burst of appends counts once or twice. */
  get commitCount(): number {
    return this.commits
  }

  append(line: string, after?: Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the journal is closed"))
    return new Promise((resolve, reject) => {
      this.pending.push(line)
      this.waiting.push({ resolve, reject })
      if (after !== undefined) this.prerequisites.push(after)
      this.startDraining()
    })
  }

  /** Compact at the next point between commits, whatever the size: a clean close leaves a whole snapshot. */
  compactNow(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.compactionWaiters.push({ resolve, reject })
      this.startDraining()
    })
  }

  /** Resolves once every line appended so far has been committed (or failed). */
  async idle(): Promise<void> {
    while (this.draining !== null) await this.draining
  }

  async close(): Promise<void> {
    await this.idle()
    this.closed = true
    await this.handle.close()
  }

  /** Started a microtask later, so that everything appended in the same synchronous step commits together. */
  private startDraining(): void {
    this.draining ??= Promise.resolve().then(() => this.drain())
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.compactionWaiters.length > 0) {
        if (this.pending.length > 0) await this.commit()
        const asked = this.compactionWaiters
        if (asked.length === 0 && !this.policy.shouldCompact(this.bytes)) continue
        this.compactionWaiters = []
        // A failed compaction leaves the journal whole: nothing is lost, the next commit tries again.
        try {
          await this.policy.compact()
          await this.truncate()
          for (const waiter of asked) waiter.resolve()
        } catch (error) {
          for (const waiter of asked) waiter.reject(error)
        }
      }
    } finally {
      this.draining = null
    }
  }

  /** One durable write for every line waiting now. */
  private async commit(): Promise<void> {
    const text = this.pending.join("")
    const waiters = this.waiting
    const prerequisites = this.prerequisites
    this.pending = []
    this.waiting = []
    this.prerequisites = []
    try {
      await Promise.all(prerequisites)
      await this.handle.write(Buffer.from(text, "utf8"))
      this.bytes += Buffer.byteLength(text, "utf8")
      this.commits += 1
      for (const waiter of waiters) waiter.resolve()
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error)
    }
  }

  private async truncate(): Promise<void> {
    // Opened for appending: after the truncation the next write lands at offset 0.
    await this.handle.truncate(0)
    await this.handle.datasync()
    this.bytes = 0
  }
}
