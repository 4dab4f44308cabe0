/**
 * An external app-server for tests of the external strategy: a WebSocket server on a loopback port
 * whose every connection is served by its own fake app-server process (scripted per connection from
 * a script directory, like spawns). Dropping a connection is killing its process.
 */
import { once } from "node:events"
import type { AddressInfo } from "node:net"
import { WebSocketServer } from "ws"
import { type AppServerProcess, spawnAppServer } from "../../src/services/transport/appServerProcess.ts"
import { fakeAppServerPath } from "./fakePeer.ts"

export interface FakeWsAppServer {
  readonly endpoint: string
  /** Connections accepted so far. */
  readonly connections: () => number
  /** End every open connection, as a server restart would. */
  readonly dropAll: () => Promise<void>
  readonly close: () => Promise<void>
}

export const startFakeWsAppServer = async (scriptDir: string): Promise<FakeWsAppServer> => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
  await once(server, "listening")
  const peers = new Set<AppServerProcess>()
  let accepted = 0
  server.on("connection", (socket) => {
    accepted += 1
    const peer = spawnAppServer({
      command: process.execPath,
      args: [fakeAppServerPath, "--script-dir", scriptDir],
      cwd: scriptDir,
    })
    peers.add(peer)
    peer.transport.start({
      onLine: (line) => socket.send(line),
      onOversizedLine: () => undefined,
      onClose: () => socket.close(),
    })
    socket.on("message", (data) => peer.transport.send(String(data)))
    socket.on("close", () => void peer.stop(300))
    void peer.exited.then(() => peers.delete(peer))
  })
  const dropAll = async () => {
    await Promise.all([...peers].map((peer) => peer.stop(300)))
  }
  return {
    endpoint: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    dropAll,
    close: async () => {
      await dropAll()
      for (const client of server.clients) client.terminate()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
