/**
 * The app-server a child actor reached: one per spawned process or external connection. Its client is
 * set once `initialize` was answered; the Supervisor hands out the client of the newest attachment.
 */
import type { AppServerClient, AppServerClientOptions } from "../AppServerClient.ts"

export interface Attachment {
  client: AppServerClient | null
}

export interface AttachmentSink {
  /** This attachment is the current one. */
  readonly attach: (attachment: Attachment) => void
  /** This attachment is gone (a later one may already be current). */
  readonly detach: (attachment: Attachment) => void
}

export interface ChildActorOptions extends AttachmentSink {
  readonly clientOptions: AppServerClientOptions
  /** Every raw protocol line, when the protocol log is on. */
  readonly onRawLine?: (direction: "in" | "out", line: string) => void
}

/** The time of an event, as the machine wants it: ISO text and milliseconds. */
export const eventTime = () => {
  const at = new Date()
  return { at: at.toISOString(), atMs: at.getTime() }
}
