/**
 * Finding a child left alive by a daemon that was killed with SIGKILL (execa's cleanup does not run
 * then). Before killing a recorded pid we make sure it is still that codex process and not a zombie
 * or an unrelated process that reused the pid. Linux answers through /proc; elsewhere nothing is
 * killed, because nothing can be proven.
 */
import { readlinkSync, realpathSync } from "node:fs"
import * as Effect from "effect/Effect"
import { processState, readProc } from "../../system/processes.ts"
import type { EventLog } from "../events/EventLog.ts"
import type { Store } from "../store/Store.ts"

const realpathOrSelf = (path: string): string => {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/** Whether `pid` is a live (non-zombie) process running `command`. */
export const isLiveProcessOf = (pid: number, command: string): boolean => {
  const state = processState(pid)
  if (state === null || state === "Z" || state === "X") return false
  let exe: string | null = null
  try {
    exe = readlinkSync(`/proc/${pid}/exe`)
  } catch {
    exe = null
  }
  const wanted = realpathOrSelf(command)
  if (exe !== null) return exe === wanted || exe.replace(/ \(deleted\)$/, "") === wanted
  const argv0 = readProc(pid, "cmdline")?.split("\0")[0]
  return argv0 !== undefined && realpathOrSelf(argv0) === wanted
}

/** Kill the process group led by `pid` (the child was started as a group leader), then the pid itself. */
export const killProcessTree = (pid: number, signal: NodeJS.Signals = "SIGKILL"): void => {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal)
    } catch {
      // Gone already, or not a group.
    }
  }
}

/** Kill a child recorded by a previous daemon that died without stopping it. */
export const reapStaleChild = (store: Store["Service"], eventLog: EventLog["Service"]) =>
  Effect.gen(function* () {
    const previous = yield* store.daemonState
    const pid = previous?.child.pid ?? null
    const command = previous?.child.command ?? null
    if (pid === null || command === null || pid === process.pid) return
    if (!isLiveProcessOf(pid, command)) return
    killProcessTree(pid, "SIGKILL")
    yield* eventLog.publish({
      level: "warn",
      type: "child.reaped",
      message: `killed app-server pid ${pid} left running by a previous daemon`,
      detail: { pid, command },
    })
  })
