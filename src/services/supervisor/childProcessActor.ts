/**
 * The `childProcess` actor of the spawn strategy: one `codex app-server` process with its client.
 * Reports the spawn, the readiness gate (initialize answered) and the exit; its cleanup stops the
 * process (SIGTERM to the group, SIGKILL after the kill timeout).
 */
import { fromCallback } from "xstate"
import type { ChildMachineEvent, ChildProcessInput } from "../../machines/childMachine.ts"
import { makeAppServerClient } from "../appServer/AppServerClient.ts"
import { type AppServerProcess, spawnAppServer } from "../transport/appServerProcess.ts"
import { type Attachment, type ChildActorOptions, eventTime, handshake } from "./attachment.ts"

export interface ChildProcessActorOptions extends ChildActorOptions {
  readonly stderrPath: string
  readonly killTimeoutMs: number
  /** Every process not yet exited, so a stop can wait for each (actor cleanup may run later). */
  readonly live: Set<AppServerProcess>
}

export const childProcessActor = (options: ChildProcessActorOptions) =>
  fromCallback<ChildMachineEvent, ChildProcessInput>(({ sendBack, input }) => {
    let ended = false
    let initError: string | null = null
    let proc: AppServerProcess
    try {
      proc = spawnAppServer({
        command: input.command,
        args: input.args,
        cwd: input.cwd,
        stderrPath: options.stderrPath,
        ...(options.onRawLine === undefined ? {} : { onRawLine: options.onRawLine }),
      })
    } catch (error) {
      sendBack({ type: "CHILD.EXITED", exitCode: null, signal: null, error: String(error), ...eventTime() })
      return () => undefined
    }
    const attachment: Attachment = { client: null }
    options.attach(attachment)
    options.live.add(proc)
    sendBack({ type: "CHILD.SPAWNED", pid: proc.pid, ...eventTime() })
    const client = makeAppServerClient(proc.transport, options.clientOptions)
    handshake(
      client,
      attachment,
      sendBack,
      () => ended,
      (reason) => {
        // Alive but refusing the handshake: kill it; its exit reports why.
        initError = reason
        proc.signal("SIGKILL")
      },
    )
    void proc.exited.then(({ exitCode, signal }) => {
      options.live.delete(proc)
      options.detach(attachment)
      if (ended) return
      sendBack({ type: "CHILD.EXITED", exitCode, signal, error: initError, ...eventTime() })
    })
    return () => {
      ended = true
      options.detach(attachment)
      void proc.stop(options.killTimeoutMs)
    }
  })
