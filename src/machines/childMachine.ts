/**
 * childMachine: the lifecycle of the managed app-server child. Pure: no IO, no clock, no randomness.
 * The process itself is the `childProcess` actor and the delays are named; the Supervisor provides
 * both. Times (`at`) arrive inside events, so the crash-loop budget is decided from data, not a clock.
 *
 *   idle ─START─▶ alive.starting ─CHILD.READY─▶ alive.running
 *                    │ startTimeout / exit           │ exit
 *                    ▼                                ▼
 *                 backoff ◀──── (within budget) ──────┘
 *                    │ backoffDelay                  (over budget) ─▶ failed ─RESTART─▶ alive
 *                    └────────────▶ alive.starting
 *   STOP from any state ─▶ stopped ─RESTART─▶ alive
 *   RESTART in alive re-enters it: the running child is stopped and a new one started
 *
 * `alive` invokes `childProcess`; leaving `alive` (stop, start timeout, exit) ends that actor, whose
 * cleanup terminates the process (SIGTERM, then SIGKILL).
 *
 * The external strategy attaches to an app-server someone else runs; it is never started or killed,
 * and a dropped connection is retried forever (the server may be down for as long as its owner likes):
 *
 *   idle ─START─▶ external.link.connecting ─CHILD.READY─▶ external.link.connected
 *                    │ startTimeout / dropped              │ dropped
 *                    ▼                                      ▼
 *                 external.reconnecting ◀───────────────────┘ ─backoffDelay─▶ external.link
 *
 * Exec mode has no long-lived child (each run is its own `codex exec`): START ─▶ exec, which only
 * asks the binary its version once (`execProbe`), so a broken binary is seen at start.
 */
import { assign, fromCallback, setup } from "xstate"
import type { ChildStrategy, ServerMode } from "../domain/config.ts"
import type { ManagedChildStatus } from "../domain/daemon.ts"

export interface ChildMachineInput {
  readonly strategy: ChildStrategy
  readonly mode: ServerMode
  readonly endpoint: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  /** More than this many automatic restarts within `restartWindowMs` trips the crash-loop budget. */
  readonly maxRestarts: number
  readonly restartWindowMs: number
}

export interface ChildMachineContext {
  // The managed child state fields (DESIGN §3), status aside: the status is the machine's state.
  readonly strategy: ChildStrategy
  readonly mode: ServerMode
  readonly endpoint: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly pid: number | null
  readonly startedAt: string | null
  readonly exitedAt: string | null
  readonly exitCode: number | null
  readonly signal: string | null
  readonly lastError: string | null
  /** What the running child said it is when it answered `initialize`; null until then. */
  readonly userAgent: string | null
  /** Automatic restarts since the last manual start or restart. */
  readonly restartCount: number
  /** Restarts since the child last ran stably; the exponent of the backoff. */
  readonly consecutiveFailures: number
  /** When the recent automatic restarts happened (ms), for the crash-loop budget. */
  readonly restartTimes: ReadonlyArray<number>
  /** When the current child was spawned (ms): the time of a start that timed out. */
  readonly spawnedAtMs: number
  readonly maxRestarts: number
  readonly restartWindowMs: number
}

export type ChildMachineEvent =
  | { readonly type: "START" }
  | { readonly type: "STOP" }
  /** Manual restart: clears the crash-loop budget, also out of `failed` and `stopped`. */
  | { readonly type: "RESTART" }
  | { readonly type: "CHILD.SPAWNED"; readonly pid: number; readonly at: string; readonly atMs: number }
  /** `initialize` was answered (exec mode: the binary told its version): the readiness gate. */
  | { readonly type: "CHILD.READY"; readonly userAgent: string; readonly at: string }
  | {
      readonly type: "CHILD.EXITED"
      readonly exitCode: number | null
      readonly signal: string | null
      readonly error: string | null
      readonly at: string
      readonly atMs: number
    }

/** The process actor's input: what to run. */
export interface ChildProcessInput {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
}

/** The connection actor's input: where the external app-server listens. */
export interface AppServerConnectionInput {
  readonly endpoint: string
}

/** The status (DESIGN §3) of a machine state, given as its full dotted name. */
export const childStatusOf = (machineState: string): ManagedChildStatus => {
  if (machineState.startsWith("external")) return "external"
  // Exec mode: no long-lived child, nothing running between runs.
  if (machineState === "exec") return "idle"
  const state = machineState.split(".").at(-1) ?? machineState
  switch (state) {
    case "idle":
    case "failed":
    case "stopped":
      return state
    case "backoff":
      // Waiting to restart: not running, and about to start again.
      return "starting"
    default:
      return state === "running" ? "running" : "starting"
  }
}

const SETTLED_MACHINE_STATES = new Set([
  "alive.running",
  "failed",
  "stopped",
  // An attached server settles once it answered, or once the first attempt failed.
  "external.link.connected",
  "external.reconnecting",
])

/** The child got as far as it will by itself: running, attached, given up, or (exec mode) probed. */
export const isChildSettled = (child: {
  readonly machineState: string
  readonly userAgent: string | null
  readonly lastError: string | null
}): boolean =>
  SETTLED_MACHINE_STATES.has(child.machineState) ||
  (child.machineState === "exec" && (child.userAgent !== null || child.lastError !== null))

/** The default backoff: 250 ms × 2^failures, capped at 30 s. The Supervisor adds jitter. */
export const backoffMs = (consecutiveFailures: number): number =>
  Math.min(30_000, 250 * 2 ** Math.max(0, consecutiveFailures - 1))

/** An exit carries its time; a start timeout is dated by the spawn it ends. */
const failureTime = (context: ChildMachineContext, event: ChildMachineEvent): number =>
  event.type === "CHILD.EXITED" ? event.atMs : context.spawnedAtMs

export const childMachine = setup({
  types: {
    input: {} as ChildMachineInput,
    context: {} as ChildMachineContext,
    events: {} as ChildMachineEvent,
  },
  actors: {
    // Provided by the Supervisor; this placeholder keeps the machine runnable on its own (it never
    // answers, so tests drive it with events).
    childProcess: fromCallback<ChildMachineEvent, ChildProcessInput>(() => undefined),
    appServerConnection: fromCallback<ChildMachineEvent, AppServerConnectionInput>(() => undefined),
    execProbe: fromCallback<ChildMachineEvent, ChildProcessInput>(() => undefined),
  },
  delays: {
    startTimeout: 20_000,
    stableAfter: 60_000,
    backoffDelay: ({ context }) => backoffMs(context.consecutiveFailures),
  },
  guards: {
    isExternal: ({ context }) => context.strategy === "external",
    isExec: ({ context }) => context.mode === "exec",
    /** This failure would be one restart more than the budget allows within the window. */
    overRestartBudget: ({ context, event }) => {
      const now = failureTime(context, event)
      return (
        context.restartTimes.filter((t) => now - t < context.restartWindowMs).length >= context.maxRestarts
      )
    },
  },
  actions: {
    recordSpawn: assign(({ event }) =>
      event.type === "CHILD.SPAWNED"
        ? {
            pid: event.pid,
            startedAt: event.at,
            spawnedAtMs: event.atMs,
            exitedAt: null,
            exitCode: null,
            signal: null,
            userAgent: null,
          }
        : {},
    ),
    recordReady: assign(({ event }) => (event.type === "CHILD.READY" ? { userAgent: event.userAgent } : {})),
    /** An attached server has no process of ours: it counts as started once it answered initialize. */
    recordAttach: assign(({ event }) =>
      event.type === "CHILD.READY"
        ? { userAgent: event.userAgent, startedAt: event.at, exitedAt: null, lastError: null }
        : {},
    ),
    recordConnectTimeout: assign({
      lastError: () => "the external app-server did not answer initialize in time",
    }),
    recordExit: assign(({ event }) =>
      event.type === "CHILD.EXITED"
        ? {
            pid: null,
            exitedAt: event.at,
            exitCode: event.exitCode,
            signal: event.signal,
            lastError: event.error,
          }
        : {},
    ),
    recordStartTimeout: assign({
      lastError: () => "the app-server did not answer initialize in time",
      pid: null,
    }),
    /** The crash-loop budget tripped: say so beside why the last start failed. */
    recordGaveUp: assign(({ context }) => ({
      lastError: `${context.lastError ?? "the app-server failed"}; gave up after ${context.maxRestarts} restarts within ${context.restartWindowMs} ms (crash-loop budget)`,
    })),
    countRestart: assign(({ context, event }) => {
      const at = failureTime(context, event)
      return {
        restartCount: context.restartCount + 1,
        consecutiveFailures: context.consecutiveFailures + 1,
        restartTimes: [...context.restartTimes.filter((t) => at - t < context.restartWindowMs), at],
      }
    }),
    /** An attached server has no crash-loop budget: only the count and the backoff exponent grow. */
    countReconnect: assign(({ context }) => ({
      restartCount: context.restartCount + 1,
      consecutiveFailures: context.consecutiveFailures + 1,
    })),
    markStable: assign({ consecutiveFailures: 0 }),
    resetBudget: assign({ restartCount: 0, consecutiveFailures: 0, restartTimes: [], lastError: null }),
    clearProcess: assign({ pid: null }),
  },
}).createMachine({
  id: "child",
  initial: "idle",
  context: ({ input }) => ({
    strategy: input.strategy,
    mode: input.mode,
    endpoint: input.endpoint,
    command: input.command,
    args: input.args,
    cwd: input.cwd,
    pid: null,
    startedAt: null,
    exitedAt: null,
    exitCode: null,
    signal: null,
    lastError: null,
    userAgent: null,
    restartCount: 0,
    consecutiveFailures: 0,
    restartTimes: [],
    spawnedAtMs: 0,
    maxRestarts: input.maxRestarts,
    restartWindowMs: input.restartWindowMs,
  }),
  on: {
    STOP: { target: ".stopped", actions: "clearProcess" },
  },
  states: {
    idle: {
      on: {
        RESTART: [
          { guard: "isExec", target: "exec" },
          { guard: "isExternal", target: "external" },
          { target: "alive" },
        ],
        START: [
          { guard: "isExec", target: "exec" },
          { guard: "isExternal", target: "external" },
          { target: "alive" },
        ],
      },
    },
    alive: {
      initial: "starting",
      invoke: {
        src: "childProcess",
        input: ({ context }) => ({ command: context.command, args: context.args, cwd: context.cwd }),
      },
      on: {
        "CHILD.SPAWNED": { actions: "recordSpawn" },
        "CHILD.EXITED": [
          { guard: "overRestartBudget", target: "failed", actions: ["recordExit", "recordGaveUp"] },
          { target: "backoff", actions: ["recordExit", "countRestart"] },
        ],
        // A manual restart of a running (or starting) child: stop it, start a new one, fresh budget.
        RESTART: { target: "alive", reenter: true, actions: "resetBudget" },
      },
      states: {
        starting: {
          on: { "CHILD.READY": { target: "running", actions: "recordReady" } },
          after: {
            startTimeout: [
              {
                guard: "overRestartBudget",
                target: "#child.failed",
                actions: ["recordStartTimeout", "recordGaveUp"],
              },
              { target: "#child.backoff", actions: ["recordStartTimeout", "countRestart"] },
            ],
          },
        },
        running: {
          after: { stableAfter: { actions: "markStable" } },
        },
      },
    },
    backoff: {
      after: { backoffDelay: "alive" },
      on: { RESTART: { target: "alive", actions: "resetBudget" } },
    },
    failed: {
      on: { RESTART: { target: "alive", actions: "resetBudget" } },
    },
    stopped: {
      on: {
        RESTART: [
          { guard: "isExec", target: "exec" },
          { guard: "isExternal", target: "external", actions: "resetBudget" },
          { target: "alive", actions: "resetBudget" },
        ],
      },
    },
    external: {
      initial: "link",
      // A manual restart of an attached server drops the connection and attaches again; never a kill.
      on: { RESTART: { target: ".link", reenter: true, actions: "resetBudget" } },
      states: {
        link: {
          initial: "connecting",
          invoke: {
            src: "appServerConnection",
            input: ({ context }) => ({ endpoint: context.endpoint }),
          },
          on: {
            "CHILD.EXITED": { target: "reconnecting", actions: ["recordExit", "countReconnect"] },
          },
          states: {
            connecting: {
              on: { "CHILD.READY": { target: "connected", actions: "recordAttach" } },
              after: {
                startTimeout: {
                  target: "#child.external.reconnecting",
                  actions: ["recordConnectTimeout", "countReconnect"],
                },
              },
            },
            connected: {
              after: { stableAfter: { actions: "markStable" } },
            },
          },
        },
        reconnecting: {
          after: { backoffDelay: "link" },
        },
      },
    },
    exec: {
      invoke: {
        src: "execProbe",
        input: ({ context }) => ({ command: context.command, args: ["--version"], cwd: context.cwd }),
      },
      on: {
        "CHILD.READY": { actions: "recordReady" },
        "CHILD.EXITED": { actions: "recordExit" },
        // Probe the binary again (it may have been replaced).
        RESTART: { target: "exec", reenter: true, actions: "resetBudget" },
      },
    },
  },
})

export type ChildMachine = typeof childMachine
