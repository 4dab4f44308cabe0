/**
 * Model-based test of the Supervisor: paths over childMachine from `xstate/graph` (shortest paths to
 * every reachable snapshot, and simple paths into `failed` and `stopped`), chosen to cover every state
 * and transition, each replayed against the real Supervisor with fake app-server processes (spawned;
 * behind a loopback WebSocket server for the external strategy; a probe script for exec mode). After
 * each step the supervisor's persisted daemon state and its events must show what the model predicts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { getNextSnapshot } from "xstate"
import { getShortestPaths, getSimplePaths } from "xstate/graph"
import { DaemonState } from "../src/domain/daemon.ts"
import { decodeJsonText } from "../src/domain/decode.ts"
import {
  type ChildMachineEvent,
  type ChildMachineInput,
  childMachine,
  childStatusOf,
} from "../src/machines/childMachine.ts"
import type { SupervisorOptions } from "../src/services/supervisor/Supervisor.ts"
import { startFakeWsAppServer } from "./support/fakeWsAppServer.ts"
import { chooseCover, definedTransitions, flat, type Step } from "./support/machineCoverage.ts"
import {
  childStateOf,
  clientOf,
  makeHarness,
  waitUntil,
  withSupervisor,
} from "./support/supervisorHarness.ts"

const AT = new Date(0).toISOString()
const AFTER = {
  startTimeout: "xstate.after.startTimeout.child.alive.starting",
  stableAfter: "xstate.after.stableAfter.child.alive.running",
  backoffDelay: "xstate.after.backoffDelay.child.backoff",
  connectTimeout: "xstate.after.startTimeout.child.external.link.connecting",
  connectedStable: "xstate.after.stableAfter.child.external.link.connected",
  reconnectDelay: "xstate.after.backoffDelay.child.external.reconnecting",
} as const
const BACKOFFS: ReadonlySet<string> = new Set([AFTER.backoffDelay, AFTER.reconnectDelay])
const STABLES: ReadonlySet<string> = new Set([AFTER.stableAfter, AFTER.connectedStable])

const modelEvents: ReadonlyArray<ChildMachineEvent | { type: string }> = [
  { type: "START" },
  { type: "STOP" },
  { type: "RESTART" },
  { type: "CHILD.SPAWNED", pid: 1, at: AT, atMs: 0 },
  { type: "CHILD.READY", userAgent: "fake/1.0", at: new Date(0).toISOString() },
  { type: "CHILD.EXITED", exitCode: 1, signal: null, error: null, at: AT, atMs: 0 },
  ...Object.values(AFTER).map((type) => ({ type })),
]

const baseInput: ChildMachineInput = {
  strategy: "spawn",
  mode: "app-server",
  endpoint: "stdio://",
  command: "unused",
  args: [],
  cwd: "/",
  // The crash-loop budget bounds the counters, and so the graph.
  maxRestarts: 1,
  restartWindowMs: 60_000,
}

type Snapshot = ReturnType<typeof childMachine.resolveState>
type Variant = "spawn" | "external" | "exec"
interface Path {
  readonly variant: Variant
  readonly steps: ReadonlyArray<Step<Snapshot>>
}

const inputOf = (variant: Variant): ChildMachineInput =>
  variant === "exec"
    ? { ...baseInput, mode: "exec" }
    : variant === "external"
      ? { ...baseInput, strategy: "external", endpoint: "ws://127.0.0.1:1" }
      : baseInput

/**
 * Coarser than the full context, so simple paths stay finite: state, budget used, whether a pid is
 * known, and the restart count up to a cap (an attached server reconnects without limit).
 */
const COUNT_CAP = 2
const capped = (restartCount: number) => Math.min(restartCount, COUNT_CAP)
const serializeState = (s: Snapshot) =>
  JSON.stringify([
    s.value,
    s.context.restartTimes.length,
    s.context.pid === null,
    capped(s.context.restartCount),
  ])

const pathsFor = (variant: Variant): Array<Path> => {
  const options = {
    events: modelEvents as Array<ChildMachineEvent>,
    input: inputOf(variant),
    serializeState,
  }
  const shortest = getShortestPaths(childMachine, options)
  const all = [
    ...shortest,
    ...getSimplePaths(childMachine, { ...options, toState: (s) => s.matches("failed") }),
    ...getSimplePaths(childMachine, { ...options, toState: (s) => s.matches("stopped") }),
  ].map((p) => ({ variant, steps: p.steps as unknown as ReadonlyArray<Step<Snapshot>> }))
  // Shortest paths reach each snapshot once; the transitions back into known snapshots (a RESTART out
  // of backoff, the stable-running timer) are one more event at the end of such a path.
  for (const path of shortest) {
    for (const event of modelEvents) {
      const next = getNextSnapshot(childMachine, path.state, event as ChildMachineEvent)
      if (next === path.state) continue
      all.push({
        variant,
        steps: [...(path.steps as unknown as ReadonlyArray<Step<Snapshot>>), { state: next, event }],
      })
    }
  }
  // The exec probe answers once per visit of `exec`: a path that has it answer twice cannot happen.
  return all.filter((path) => execVisits(path).every((answers) => answers.length <= 1))
}

/** The probe answers (READY or EXITED) within each visit of `exec`, in order. */
const execVisits = (path: Path): Array<Array<string>> => {
  const visits: Array<Array<string>> = []
  let previous = "idle"
  for (const step of path.steps) {
    const now = flat(step.state.value)
    if (now === "exec" && previous !== "exec") visits.push([])
    if (now === "exec" && previous === "exec") visits.at(-1)?.push(step.event.type)
    previous = now
  }
  return visits
}

// --- replay -------------------------------------------------------------------------------------

/** The states in which one child process (or one connection) lives. */
const linkOf = (state: string): string | null =>
  state.startsWith("alive") ? "alive" : state.startsWith("external.link") ? "external.link" : null

/** Which spawns or connections (1-based, in order) the path lets answer initialize. */
const spawnPlan = (path: Path): Array<boolean> => {
  const plan: Array<boolean> = []
  let previous = "idle"
  for (const step of path.steps) {
    const now = flat(step.state.value)
    const link = linkOf(now)
    // A manual restart of an attached server re-enters the link: a new connection.
    const reentered = step.event.type === "RESTART" && link !== null && linkOf(previous) === link
    if (link !== null && (linkOf(previous) !== link || reentered)) plan.push(false)
    if (step.event.type === "CHILD.READY" && (now === "alive.running" || now === "external.link.connected"))
      plan[plan.length - 1] = true
    previous = now
  }
  return plan
}

/** A codex stand-in for exec mode's version probe: the Nth run answers, or fails if told to. */
const probeScript = (dir: string): string => {
  const path = join(dir, "probe.sh")
  writeFileSync(
    path,
    `#!/bin/sh
n=1
while [ -e "${dir}/probe-ran-$n" ]; do n=$((n+1)); done
: > "${dir}/probe-ran-$n"
if [ -e "${dir}/probe-fail-$n" ]; then echo "probe $n refused" >&2; exit 3; fi
echo "codex-cli fake $n"
`,
  )
  chmodSync(path, 0o755)
  return path
}

const persistedChild = (path: string) => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch {
    return null
  }
  const decoded = decodeJsonText(DaemonState, "daemon.json")(text)
  if (decoded._tag !== "Success") throw decoded.failure
  return decoded.success.child
}

const replay = async (path: Path): Promise<void> => {
  const h = makeHarness()
  const external = path.variant === "external" ? await startFakeWsAppServer(h.dir) : null
  try {
    const plan = spawnPlan(path)
    for (const [i, answers] of plan.entries()) {
      // Every other child ignores SIGTERM, so stops also take the SIGKILL escalation; a ready child
      // exits cleanly (code 0) when asked to, one still starting crashes (SIGKILL).
      h.script(
        {
          ignoreSigterm: i % 2 === 1,
          requests: answers ? { "fake/exit": [{ exit: 0 }] } : { initialize: [{ never: true }] },
        },
        i + 1,
      )
    }
    for (const [i, answers] of execVisits(path).entries()) {
      if (answers[0] === "CHILD.EXITED") writeFileSync(join(h.dir, `probe-fail-${i + 1}`), "")
    }
    const config =
      path.variant === "external"
        ? {
            ...h.config,
            server: {
              ...h.config.server,
              childStrategy: "external" as const,
              endpoint: external?.endpoint ?? "",
            },
          }
        : path.variant === "exec"
          ? {
              ...h.config,
              server: { ...h.config.server, mode: "exec" as const, childCommand: probeScript(h.dir) },
            }
          : h.config
    let nextBackoffMs = 60_000
    const options: Partial<SupervisorOptions> = {
      // Long enough for a fake to start on a loaded machine: a start timeout the model does not call
      // for would hand the next spawn this one's script.
      startTimeoutMs: 5_000,
      stableAfterMs: 200,
      killTimeoutMs: 300,
      maxRestarts: baseInput.maxRestarts,
      restartWindowMs: baseInput.restartWindowMs,
      backoffDelayMs: () => nextBackoffMs,
    }
    let links = 0
    await withSupervisor(
      config,
      (supervisor) =>
        Effect.promise(async () => {
          for (let i = 1; i < path.steps.length; i++) {
            const step = path.steps[i] as Step<Snapshot>
            const previous = flat((path.steps[i - 1] as Step<Snapshot>).state.value)
            const next = path.steps[i + 1]
            const expected = flat(step.state.value)
            const link = linkOf(expected)
            if (link !== null && (linkOf(previous) !== link || step.event.type === "RESTART")) links += 1
            // A backoff entered now ends by its delay only if the model says so next; else it must wait for us.
            nextBackoffMs = next !== undefined && BACKOFFS.has(next.event.type) ? 30 : 60_000
            switch (step.event.type) {
              case "START":
                await Effect.runPromise(supervisor.start)
                break
              case "STOP":
                await Effect.runPromise(supervisor.stop)
                break
              case "RESTART":
                await Effect.runPromise(supervisor.restart)
                break
              case "CHILD.SPAWNED":
                await waitUntil(() => childStateOf(supervisor).pid !== null, 10_000, "a spawned child")
                break
              case "CHILD.EXITED": {
                if (previous === "exec") break // the probe fails by itself, as planned
                if (external !== null) {
                  // The connection exists at the server before it can be dropped there.
                  await waitUntil(() => external.connections() >= links, 10_000, "a connection")
                  await external.dropAll()
                  break
                }
                await waitUntil(() => childStateOf(supervisor).pid !== null, 10_000, "a child to end")
                // The fake numbers itself by the spawn files before it: one killed before it wrote
                // its own would hand its number (and script) to the next.
                await waitUntil(
                  () => existsSync(join(h.dir, `spawn-${links}`)),
                  10_000,
                  `spawn ${links} to record itself`,
                )
                const client = clientOf(supervisor)
                if (client !== null) void Effect.runPromiseExit(client.request("fake/exit"))
                else process.kill(childStateOf(supervisor).pid ?? 0, "SIGKILL")
                break
              }
              default:
              // CHILD.READY and the delays happen by themselves: the script answers, time passes.
            }
            await waitUntil(
              () => childStateOf(supervisor).machineState === expected,
              10_000,
              () =>
                `${expected} after ${step.event.type} (step ${i}; the child is ${JSON.stringify(childStateOf(supervisor))})`,
            )
            if (expected === "exec" && step.event.type === "CHILD.READY")
              await waitUntil(() => childStateOf(supervisor).userAgent !== null, 10_000, "the probe's answer")
            if (expected === "exec" && step.event.type === "CHILD.EXITED")
              await waitUntil(
                () => childStateOf(supervisor).lastError !== null,
                10_000,
                "the probe's failure",
              )
            if (STABLES.has(step.event.type)) await new Promise((r) => setTimeout(r, 250))
            const model = step.state.context
            const real = childStateOf(supervisor)
            expect(real.machineState).toBe(expected)
            expect(real.status).toBe(childStatusOf(expected))
            // Snapshots are merged above the cap, so the count is exact up to it.
            expect(capped(real.restartCount)).toBe(capped(model.restartCount))
            if (expected === "alive.running") expect(real.pid).not.toBeNull()
            if (expected === "external.link.connected") {
              expect(real.userAgent).not.toBeNull()
              expect(clientOf(supervisor)).not.toBeNull()
            }
            if (path.variant !== "spawn") expect(real.pid).toBeNull()
            if (expected === "exec" && step.event.type === "CHILD.READY")
              expect(real.userAgent).toMatch(/^codex-cli fake \d+$/)
            if (expected === "exec" && step.event.type === "CHILD.EXITED")
              expect(real.lastError).toMatch(/probe \d+ refused/)
            // What is persisted says the same, unless the state ends by itself at once (a 30 ms
            // backoff): on a loaded machine the file may already hold the next one when it is read.
            // That it passed through is shown by the event log, checked in order below.
            if (next !== undefined && BACKOFFS.has(next.event.type)) continue
            await waitUntil(
              () => persistedChild(config.paths.daemonStatePath)?.machineState === expected,
              10_000,
              "persisted state",
            )
            expect(persistedChild(config.paths.daemonStatePath)).toMatchObject({
              status: real.status,
              restartCount: real.restartCount,
            })
          }
        }),
      options,
    )
    // Every state the path passed through was announced as an event, in order.
    const logged = readFileSync(config.paths.structuredEventLogPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; detail: { state?: string } })
      .filter((e) => e.type === "child.state")
      .map((e) => e.detail.state)
    const visited = path.steps
      .map((s) => flat(s.state.value))
      .filter((s, i, all) => i === 0 || s !== all[i - 1])
    expect(logged).toEqual(expect.arrayContaining(visited.filter((s) => s !== "idle")))
    // No connection the model does not call for (one cut short by a stop may never reach the server).
    if (external !== null) expect(external.connections()).toBeLessThanOrEqual(links)
  } finally {
    await external?.close()
    h.cleanup()
  }
}

// --- the test -----------------------------------------------------------------------------------

const defined = definedTransitions(childMachine.root)
const chosen = [
  ...chooseCover(pathsFor("spawn"), defined),
  ...chooseCover(pathsFor("external"), defined),
  ...chooseCover(pathsFor("exec"), defined),
]
const coveredKeys = new Set(chosen.flatMap((c) => [...c.keys]))
const coveredStates = new Set(chosen.flatMap((c) => [...c.states].map((s) => s.split(".")[0] as string)))

afterAll(() => {
  const lines = defined.map((d) => `  ${coveredKeys.has(d.key) ? "✓" : "✗"} ${d.key}`)
  process.stdout.write(
    `\nchildMachine model coverage: ${coveredKeys.size}/${defined.length} transitions, ${coveredStates.size}/${Object.keys(childMachine.root.states).length} states, ${chosen.length} paths replayed\n${lines.join("\n")}\n`,
  )
})

describe("childMachine model replayed against the real Supervisor", () => {
  it("covers every state and every transition of the machine", () => {
    expect([...coveredStates].sort()).toEqual(Object.keys(childMachine.root.states).sort())
    expect(defined.filter((d) => !coveredKeys.has(d.key)).map((d) => d.key)).toEqual([])
  })

  it.each(chosen.map((c, i) => [i + 1, c.path.steps.map((s) => s.event.type).join(" > "), c.path] as const))(
    "path %i: %s",
    async (_i, _label, path) => {
      await replay(path)
    },
  )
})
