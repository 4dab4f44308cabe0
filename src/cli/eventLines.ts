/**
 * The human view of events, one line each, except an agent message's deltas: they fold into one line
 * per message, written as they arrive (the line stays open until another event comes), so a streamed
 * answer reads as text rather than as a thousand one-word lines.
 */
import type { RecentEvent } from "../domain/event.ts"

const cell = (value: unknown): string => (value === null || value === undefined ? "-" : String(value))

const clipped = (value: string, max: number): string =>
  value.length > max ? `${value.slice(0, max - 1)}…` : value

/** Control characters would break the line: a streamed newline shows as a space. */
const flat = (text: string): string => text.replace(/[\r\n\t]+/g, " ")

export class EventLines {
  /** The message whose deltas the open line holds. */
  private openItem: string | null = null

  /** The text to write for `event`: a whole line, the start of a folded one, or more of it. */
  add(event: RecentEvent): string {
    const item = event.type === "run.message.delta" ? cell(event.detail?.itemId) : null
    if (item !== null && item === this.openItem) return flat(event.message)
    const close = this.end()
    const prefix = `${String(event.seq).padStart(6)} ${cell(event.createdAt)} ${cell(event.level).padEnd(5)} ${cell(event.type).padEnd(22)} `
    if (item !== null) {
      this.openItem = item
      return `${close}${prefix}${flat(event.message)}`
    }
    return `${close}${prefix}${clipped(flat(event.message), 100)}\n`
  }

  /** Closes an open folded line. */
  end(): string {
    if (this.openItem === null) return ""
    this.openItem = null
    return "\n"
  }
}
