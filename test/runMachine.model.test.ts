/**
 * Model-based test of runMachine: shortest paths from `xstate/graph` to every reachable snapshot, each
 * extended by every event that moves it, chosen to cover every transition, then replayed against the
 * machine as the Runs service runs it: turn actors that are real promises settled when the path says,
 * delays that pass on a simulated clock. After every step the live actor must be where the model is,
 * with the same failure.
 */
import { afterAll, describe, expect, it } from "vitest"
import { type AnyStateNode, createActor, fromPromise, getNextSnapshot, SimulatedClock } from "xstate"
import { getShortestPaths } from "xstate/graph"
import { type RunMachineEvent, runMachine, type TurnOutcome } from "../src/machines/runMachine.ts"
import { chooseCover, definedTransitions, flat, type Step } from "./support/machineCoverage.ts"

const DELAYS = { silenceTimeout: 1_000, idleGrace: 200, interruptGrace: 500 } as const
const START = "0.run.running.starting"
const READ = "0.run.running.reconciling.reading"
const INTERRUPT = "0.run.running.interrupting"

const completed: TurnOutcome = { status: "completed", errorMessage: null }
const stillRunning: TurnOutcome = { status: "inProgress", errorMessage: null }

const modelEvents: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }> = [
  { type: "SCHEDULED" },
  { type: "STEER", text: "edited" },
  { type: "INTERRUPT" },
  { type: "TURN.STARTED", turnId: "turn-1" },
  { type: "ACTIVITY" },
  { type: "APPROVAL.ASKED" },
  { type: "APPROVAL.SETTLED" },
  { type: "APPROVAL.TIMED_OUT" },
  { type: "THREAD.IDLE" },
  { type: "TURN.COMPLETED", ...completed },
  { type: "TURN.COMPLETED", status: "failed", errorMessage: "boom", codexErrorInfo: { code: 1 } },
  { type: "CHILD.EXITED", reason: "gone" },
  { type: `xstate.done.actor.${START}`, output: { turnId: "turn-1" } },
  { type: `xstate.error.actor.${START}`, error: new Error("refused") },
  { type: `xstate.done.actor.${READ}`, output: completed },
  { type: `xstate.done.actor.${READ}`, output: stillRunning },
  { type: `xstate.error.actor.${READ}`, error: new Error("read failed") },
  { type: `xstate.after.silenceTimeout.run.running.active` },
  { type: `xstate.after.idleGrace.run.running.reconciling.grace` },
  { type: `xstate.after.interruptGrace.run.running.interrupting` },
]

type Snapshot = ReturnType<typeof runMachine.resolveState>
interface Path {
  readonly steps: ReadonlyArray<Step<Snapshot>>
}

const input = { runId: "run-1", prompt: "hello" }

const paths = (): Array<Path> => {
  const shortest = getShortestPaths(runMachine, { events: modelEvents as Array<RunMachineEvent>, input })
  const all: Array<Path> = shortest.map((p) => ({
    steps: p.steps as unknown as ReadonlyArray<Step<Snapshot>>,
  }))
  for (const path of shortest) {
    for (const event of modelEvents) {
      // Self-transitions count too (activity re-arming the watchdog); only refused events are skipped.
      if (!path.state.can(event as RunMachineEvent)) continue
      const next = getNextSnapshot(runMachine, path.state, event as RunMachineEvent)
      all.push({
        steps: [...(path.steps as unknown as ReadonlyArray<Step<Snapshot>>), { state: next, event }],
      })
    }
  }
  return all
}

interface Pending {
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0))
}

const replay = async (path: Path) => {
  const clock = new SimulatedClock()
  const pending = new Map<string, Pending>()
  // Input types differ per actor; these ignore their input, so one helper serves all three.
  const controlled = <T>(name: string): never =>
    fromPromise<T, unknown>(
      () =>
        new Promise<T>((resolve, reject) => {
          pending.set(name, { resolve: resolve as (value: unknown) => void, reject })
        }),
    ) as never
  const actor = createActor(
    runMachine.provide({
      actors: {
        startTurn: controlled<{ turnId: string }>(START),
        readTurn: controlled<TurnOutcome>(READ),
        interruptTurn: controlled<void>(INTERRUPT),
      },
      delays: DELAYS,
    }),
    { input, clock },
  )
  actor.start()
  for (const step of path.steps.slice(1)) {
    const event = step.event as { type: string; output?: unknown; error?: unknown }
    const settleActor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type)
    const delay = /^xstate\.after\.(\w+)\./.exec(event.type)
    if (settleActor !== null) {
      const actorPending = pending.get(settleActor[2] as string)
      expect(actorPending, `${settleActor[2]} is running`).toBeDefined()
      if (settleActor[1] === "done") actorPending?.resolve(event.output)
      else actorPending?.reject(event.error)
    } else if (delay !== null) {
      clock.increment(DELAYS[delay[1] as keyof typeof DELAYS])
    } else {
      actor.send(event as RunMachineEvent)
    }
    await flush()
    const snapshot = actor.getSnapshot()
    expect(flat(snapshot.value), `after ${event.type}`).toBe(flat(step.state.value))
    expect(snapshot.context.failure?.code ?? null).toBe(step.state.context.failure?.code ?? null)
    expect(snapshot.context.prompt).toBe(step.state.context.prompt)
    expect(snapshot.context.turnId).toBe(step.state.context.turnId)
  }
  actor.stop()
}

const transient = new Set(["settle"])
const defined = definedTransitions(runMachine.root)
const chosen = chooseCover(paths(), defined, transient)
const coveredKeys = new Set(chosen.flatMap((c) => [...c.keys]))
/** Every leaf state the machine can rest in, as a dotted path. */
const leaves = (node: AnyStateNode): Array<string> => {
  const children = Object.values(node.states) as Array<AnyStateNode>
  return children.length === 0 ? [node.path.join(".")] : children.flatMap(leaves)
}
const restingStates = leaves(runMachine.root).filter((s) => !transient.has(s))
const coveredStates = new Set(chosen.flatMap((c) => [...c.states]))

afterAll(() => {
  const lines = defined.map((d) => `  ${coveredKeys.has(d.key) ? "✓" : "✗"} ${d.key}`)
  process.stdout.write(
    `\nrunMachine model coverage: ${coveredKeys.size}/${defined.length} transitions, ${coveredStates.size}/${restingStates.length} states, ${chosen.length} paths replayed\n${lines.join("\n")}\n`,
  )
})

describe("runMachine model replayed with promise actors and a simulated clock", () => {
  it("covers every state and every transition of the machine", () => {
    expect([...coveredStates].sort()).toEqual([...restingStates].sort())
    expect(defined.filter((d) => !coveredKeys.has(d.key)).map((d) => d.key)).toEqual([])
  })

  it.each(chosen.map((c, i) => [i + 1, c.path.steps.map((s) => s.event.type).join(" > "), c.path] as const))(
    "path %i: %s",
    async (_i, _label, path) => {
      await replay(path)
    },
  )
})
