/**
 * A Transport over an external app-server's WebSocket endpoint (`codex app-server --listen ws://…`),
 * which carries one JSON message per text frame. Uses the `ws` client, which (unlike the built-in
 * WebSocket) tells why a handshake was refused, e.g. the 401 of a server that wants a token.
 */
import { WebSocket } from "ws"
import { MAX_LINE_BYTES } from "./lineSplitter.ts"
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
    const socket = new WebSocket(options.url, {
      // A message is a line: the same bound (ws closes the link past it rather than buffer more).
      maxPayload: MAX_LINE_BYTES,
      ...(options.token === undefined ? {} : { headers: { Authorization: `Bearer ${options.token}` } }),
    })
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

    socket.on("unexpected-response", (request, response) => {
      const status = response.statusCode ?? 0
      const hint =
        status === 401 || status === 403
          ? options.token === undefined
            ? ": the server wants a token (CODEXD_SERVER_TOKEN_FILE)"
            : ": the server refused the token"
          : ""
      finish(`the server refused the connection (HTTP ${status})${hint}`)
      request.destroy()
    })
    socket.on("open", () => {
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
    socket.on("message", (data: Buffer | ArrayBuffer | Array<Buffer>) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString("utf8")
        : Buffer.from(data as ArrayBuffer).toString("utf8")
      // A frame may hold several newline-separated messages; each is one line.
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue
        options.onRawLine?.("in", line)
        if (handlers === null) early.push(line)
        else handlers.onLine(line)
      }
    })
    socket.on("close", (code: number, reason: Buffer) =>
      finish(`connection closed (code ${code}${reason.length > 0 ? `: ${reason.toString("utf8")}` : ""})`),
    )
    socket.on("error", (error: Error) => finish(`connection failed: ${error.message}`))
  })
