/**
 * A Transport over an external app-server's WebSocket endpoint (`codex app-server --listen ws://…`),
 * which carries one JSON message per text frame. Uses Node's built-in WebSocket client.
 */
import { type Transport, TransportClosedError, type TransportHandlers } from "./Transport.ts"

export interface WsTransportOptions {
  readonly url: string
  /** Bearer token for a server started with `--ws-auth`. */
  readonly token?: string
  readonly onRawLine?: (direction: "in" | "out", line: string) => void
}

/** Connect, resolving once the socket is open, or rejecting with why it could not be. */
export const connectWsTransport = (options: WsTransportOptions): Promise<Transport> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(
      options.url,
      options.token === undefined ? undefined : { headers: { Authorization: `Bearer ${options.token}` } },
    )
    let handlers: TransportHandlers | null = null
    const early: Array<string> = []
    let closed: TransportClosedError | null = null
    let opened = false

    const finish = (reason: string): void => {
      if (closed !== null) return
      closed = new TransportClosedError({ transport: options.url, reason, exitCode: null, signal: null })
      if (!opened) reject(closed)
      handlers?.onClose(closed)
    }

    socket.addEventListener("open", () => {
      opened = true
      resolve({
        describe: options.url,
        start: (h) => {
          handlers = h
          for (const line of early.splice(0)) h.onLine(line)
          if (closed !== null) h.onClose(closed)
        },
        send: (line) => {
          if (closed !== null || socket.readyState !== WebSocket.OPEN) return false
          options.onRawLine?.("out", line)
          socket.send(line)
          return true
        },
        close: () => socket.close(),
      })
    })
    socket.addEventListener("message", (event: MessageEvent) => {
      const text =
        typeof event.data === "string" ? event.data : Buffer.from(event.data as ArrayBuffer).toString("utf8")
      // A frame may hold several newline-separated messages; each is one line.
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue
        options.onRawLine?.("in", line)
        if (handlers === null) early.push(line)
        else handlers.onLine(line)
      }
    })
    socket.addEventListener("close", (event: CloseEvent) =>
      finish(`connection closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""})`),
    )
    socket.addEventListener("error", () => finish("connection failed"))
  })
