/**
 * The opt-in Stately inspector (`codexd start --inspect[=PORT]`): a relay on loopback that serves a
 * page embedding the Stately inspector UI and forwards, over WebSocket, the inspection events of every
 * machine actor. Off by default; stopped on shutdown (the inspector client would otherwise retry
 * forever). The relay listens on 127.0.0.1 only: the events carry prompts and state.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { createWebSocketInspector } from "@statelyai/inspect"
import { WebSocket, WebSocketServer } from "ws"
import type { InspectionEvent } from "xstate"

const REPLAY_LIMIT = 500

const bridgePage = (wsUrl: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>codexd machines</title>
<style>html,body,iframe{margin:0;height:100%;width:100%;border:0}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
  const frame = document.getElementById("inspector")
  const pending = []
  let ready = false
  window.addEventListener("message", (e) => {
    if (e.data && e.data.type === "@statelyai.connected") {
      ready = true
      for (const event of pending.splice(0)) frame.contentWindow.postMessage(event, "*")
    }
  })
  const socket = new WebSocket(${JSON.stringify(wsUrl)})
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data)
    if (ready) frame.contentWindow.postMessage(event, "*")
    else pending.push(event)
  }
</script></body></html>
`

export interface InspectorHandle {
  readonly url: string
  readonly inspect: (event: InspectionEvent) => void
  readonly stop: () => Promise<void>
}

export const startInspector = async (port: number): Promise<InspectorHandle> => {
  const recent: Array<string> = []
  let wsUrl = ""
  const http = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
    res.end(bridgePage(wsUrl))
  })
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject)
    http.listen(port, "127.0.0.1", resolve)
  })
  // Made once the port is ours: a relay over a server that failed to listen re-emits its error unheard.
  const relay = new WebSocketServer({ server: http })
  relay.on("connection", (socket) => {
    for (const message of recent) socket.send(message)
    socket.on("message", (data) => {
      const message = data.toString()
      recent.push(message)
      if (recent.length > REPLAY_LIMIT) recent.shift()
      for (const client of relay.clients) {
        if (client !== socket && client.readyState === WebSocket.OPEN) client.send(message)
      }
    })
  })
  const bound = (http.address() as AddressInfo).port
  wsUrl = `ws://127.0.0.1:${bound}`
  const inspector = createWebSocketInspector({ url: wsUrl })
  inspector.start()
  return {
    url: `http://127.0.0.1:${bound}`,
    inspect: inspector.inspect as (event: InspectionEvent) => void,
    stop: async () => {
      inspector.stop()
      for (const client of relay.clients) client.terminate()
      await new Promise<void>((resolve) => relay.close(() => resolve()))
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
