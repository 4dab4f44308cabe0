/**
 * The app-server a child actor reached: one per spawned process or external connection. Its client is
 * set once `initialize` was answered; the Supervisor hands out the client of the newest attachment.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type { ChildMachineEvent } from "../../machines/childMachine.ts"
import type { AppServerClient, AppServerClientOptions } from "../appServer/AppServerClient.ts"

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

/**
 * The readiness gate: `initialize`, then the client is the attachment's and the machine hears READY.
 * A peer that answers the handshake with an error is unusable: `refused` gets why (the transport's own
 * end is reported by whoever watches it).
 */
export const handshake = (
  client: AppServerClient,
  attachment: Attachment,
  sendBack: (event: ChildMachineEvent) => void,
  isEnded: () => boolean,
  refused: (reason: string) => void,
): void => {
  void Effect.runPromise(Effect.result(client.initialize)).then((outcome) => {
    if (isEnded()) return
    if (Result.isSuccess(outcome)) {
      attachment.client = client
      sendBack({ type: "CHILD.READY", userAgent: outcome.success.userAgent, at: eventTime().at })
    } else if (outcome.failure._tag !== "TransportClosedError") {
      refused(`initialize failed: ${outcome.failure.message}`)
    }
  })
}
