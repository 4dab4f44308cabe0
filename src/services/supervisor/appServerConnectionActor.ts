/**
 * The `appServerConnection` actor of the external strategy: one WebSocket connection to an
 * app-server someone else runs (`codex app-server --listen ws://…`), with its client. Reports the
 * readiness gate (initialize answered) and the connection's end as the child's exit; its cleanup only
 * closes the connection. The server itself is never signalled: it is not ours.
 */
import { readFileSync } from "node:fs"
import { fromCallback } from "xstate"
import type { AppServerConnectionInput, ChildMachineEvent } from "../../machines/childMachine.ts"
import { makeAppServerClient } from "../appServer/AppServerClient.ts"
import { type Transport, TransportClosedError } from "../transport/Transport.ts"
import { connectWsTransport } from "../transport/wsTransport.ts"
import { type Attachment, type ChildActorOptions, eventTime, handshake } from "./attachment.ts"

export interface AppServerConnectionActorOptions extends ChildActorOptions {
  /** The capability token of a server started with `--ws-auth capability-token`; read at each attempt. */
  readonly tokenFile: string | null
}

const readToken = (path: string): string => {
  const token = readFileSync(path, "utf8").trim()
  if (token === "") throw new Error(`the server token file ${path} is empty`)
  return token
}

export const appServerConnectionActor = (options: AppServerConnectionActorOptions) =>
  fromCallback<ChildMachineEvent, AppServerConnectionInput>(({ sendBack, input }) => {
    let ended = false
    let transport: Transport | null = null
    const attachment: Attachment = { client: null }
    const dropped = (error: string) => {
      options.detach(attachment)
      if (!ended) sendBack({ type: "CHILD.EXITED", exitCode: null, signal: null, error, ...eventTime() })
    }

    let token: string | undefined
    try {
      token = options.tokenFile === null ? undefined : readToken(options.tokenFile)
    } catch (error) {
      // Reported as a failed attempt: the file may appear before the next one.
      dropped(`cannot read the server token: ${error instanceof Error ? error.message : String(error)}`)
      return () => undefined
    }

    connectWsTransport({
      url: input.endpoint,
      ...(token === undefined ? {} : { token }),
      ...(options.onRawLine === undefined ? {} : { onRawLine: options.onRawLine }),
    }).then(
      (opened) => {
        if (ended) {
          opened.close()
          return
        }
        transport = opened
        options.attach(attachment)
        const client = makeAppServerClient(opened, options.clientOptions)
        let initError: string | null = null
        void client.closed.then((closed) => dropped(initError ?? closed.reason))
        handshake(
          client,
          attachment,
          sendBack,
          () => ended,
          (reason) => {
            // Reachable but refusing the handshake: drop this connection and try again later.
            initError = reason
            opened.close()
          },
        )
      },
      (error: unknown) =>
        dropped(
          error instanceof TransportClosedError
            ? error.reason
            : error instanceof Error
              ? error.message
              : String(error),
        ),
    )

    return () => {
      ended = true
      options.detach(attachment)
      transport?.close()
    }
  })
