/**
 * runMachine: one run (a prompt executed as one turn) from queued to completed or failed. Pure: the
 * turn requests are named actors, the timers named delays, codex's notifications arrive as events.
 *
 *   queued ─SCHEDULED─▶ running.starting ─turn/start─▶ running.active ⇄ running.awaitingApproval
 *      │ STEER edits the prompt        │ start failed          │ THREAD.IDLE (no turn/completed yet)
 *      │                               ▼                       ▼
 *      │                             failed             running.reconciling ─(grace, thread/read)─▶ …
 *   TURN.COMPLETED ─▶ completed | failed;  silence for `silenceTimeout` ─▶ interrupting ─▶ failed (stalled)
 *   INTERRUPT ─▶ running.interrupting ─▶ failed (interrupted);  CHILD.EXITED ─▶ failed (child-exited)
 *
 * Every failure carries a typed code; the Runs service turns the final state into the run record.
 */
import { assign, fromPromise, setup } from "xstate"
import {
  failsEvenIfCompleted,
  failureOf,
  type RunMachineContext,
  type RunMachineEvent,
  type RunMachineInput,
  type TurnOutcome,
} from "./runOutcome.ts"

export type { RunErrorCode, RunFailure, RunMachineEvent, TurnOutcome } from "./runOutcome.ts"

/**
 * What the turn actors get. The run id lets one provided machine serve every run: its actors find
 * their run by id (providing a machine per run rebuilt its state nodes each time, ~0.2 ms a run).
 */
export interface TurnInput {
  readonly runId: string
  readonly turnId: string | null
}

export const runMachine = setup({
  types: {
    input: {} as RunMachineInput,
    context: {} as RunMachineContext,
    events: {} as RunMachineEvent,
  },
  actors: {
    /** turn/start; resolves with the turn id. Provided by the Runs service. */
    startTurn: fromPromise<{ turnId: string }, { runId: string; prompt: string }>(async () => {
      throw new Error("startTurn is provided by the Runs service")
    }),
    /** turn/interrupt for the active turn. */
    interruptTurn: fromPromise<void, TurnInput>(async () => undefined),
    /** thread/read after the thread went idle without turn/completed. */
    readTurn: fromPromise<TurnOutcome, TurnInput>(async () => ({
      status: "inProgress",
      errorMessage: null,
    })),
  },
  delays: {
    silenceTimeout: 600_000,
    idleGrace: 2_000,
    /** How long an interrupt may take before the run is failed anyway. */
    interruptGrace: 10_000,
  },
  guards: {
    // A turn that went on after its approval was declined at the deadline did not do what it asked.
    turnSucceeded: ({ context, event }) =>
      event.type === "TURN.COMPLETED" &&
      event.status === "completed" &&
      !failsEvenIfCompleted(context.interruptReason),
    interruptRequested: ({ context }) => context.interruptReason !== null,
    wentIdleWhileStarting: ({ context }) => context.idleWhileStarting,
    outcomeSettled: ({ event }) => "output" in event && (event.output as TurnOutcome).status !== "inProgress",
  },
  actions: {
    editPrompt: assign({
      prompt: ({ context, event }) => (event.type === "STEER" ? event.text : context.prompt),
    }),
    recordTurn: assign({
      turnId: ({ context, event }) => (event.type === "TURN.STARTED" ? event.turnId : context.turnId),
    }),
    recordOutcome: assign(({ context, event }) => {
      if (event.type !== "TURN.COMPLETED") return {}
      return { turnStatus: event.status, failure: failureOf(context, event) }
    }),
    failChildExited: assign({
      failure: ({ event }) => ({
        code: "child-exited" as const,
        message: event.type === "CHILD.EXITED" ? event.reason : "the app-server exited",
      }),
    }),
    markStalled: assign({
      interruptReason: () => ({
        code: "stalled" as const,
        message: "no event from codex within the silence timeout",
      }),
    }),
    markApprovalTimeout: assign({
      interruptReason: () => ({
        code: "approval-timed-out" as const,
        message: "an approval was not answered before its deadline and was declined",
      }),
    }),
    markInterruptRequested: assign({
      interruptReason: ({ context, event }) =>
        context.interruptReason ??
        (event.type === "INTERRUPT" ? event.reason : undefined) ?? {
          code: "interrupted" as const,
          message: "interrupted on request",
        },
    }),
    failInterruptTimeout: assign({
      failure: ({ context }) =>
        context.interruptReason ?? { code: "interrupted" as const, message: "interrupted" },
    }),
  },
}).createMachine({
  id: "run",
  initial: "queued",
  context: ({ input }) => ({
    runId: input.runId,
    prompt: input.prompt,
    turnId: null,
    interruptReason: null,
    failure: null,
    turnStatus: null,
    idleWhileStarting: false,
  }),
  states: {
    queued: {
      on: {
        SCHEDULED: "running",
        STEER: { actions: "editPrompt" },
        INTERRUPT: {
          target: "failed",
          actions: assign({
            failure: () => ({ code: "interrupted" as const, message: "interrupted before it started" }),
          }),
        },
      },
    },
    running: {
      initial: "starting",
      on: {
        "CHILD.EXITED": { target: "failed", actions: "failChildExited" },
        "TURN.COMPLETED": [
          { guard: "turnSucceeded", target: "completed", actions: "recordOutcome" },
          { target: "failed", actions: "recordOutcome" },
        ],
      },
      states: {
        starting: {
          invoke: {
            src: "startTurn",
            input: ({ context }) => ({ runId: context.runId, prompt: context.prompt }),
            onDone: [
              // An interrupt asked for while the turn was being started applies once it exists.
              {
                guard: "interruptRequested",
                target: "interrupting",
                actions: assign({ turnId: ({ event }) => event.output.turnId }),
              },
              {
                guard: "wentIdleWhileStarting",
                target: "reconciling",
                actions: assign({ turnId: ({ event }) => event.output.turnId }),
              },
              { target: "active", actions: assign({ turnId: ({ event }) => event.output.turnId }) },
            ],
            onError: {
              target: "#run.failed",
              actions: assign({
                failure: ({ event }) => ({
                  code: "rejected-at-start" as const,
                  message: `turn/start was refused: ${event.error instanceof Error ? event.error.message : String(event.error)}`,
                }),
              }),
            },
          },
          on: {
            "TURN.STARTED": { actions: "recordTurn" },
            INTERRUPT: { actions: "markInterruptRequested" },
            "THREAD.IDLE": { actions: assign({ idleWhileStarting: true }) },
            ACTIVITY: { actions: assign({ idleWhileStarting: false }) },
          },
        },
        active: {
          on: {
            ACTIVITY: { target: "active", reenter: true },
            "TURN.STARTED": { actions: "recordTurn" },
            "APPROVAL.ASKED": "awaitingApproval",
            "THREAD.IDLE": "reconciling",
            INTERRUPT: { target: "interrupting", actions: "markInterruptRequested" },
          },
          // The watchdog: any activity re-enters `active` and so restarts this timer.
          after: { silenceTimeout: { target: "interrupting", actions: "markStalled" } },
        },
        awaitingApproval: {
          // Waiting on a person is not silence: no watchdog here; the approval has its own deadline.
          on: {
            "APPROVAL.SETTLED": "active",
            // The deadline declined the approval; the run fails rather than go on without what it asked.
            "APPROVAL.TIMED_OUT": { target: "interrupting", actions: "markApprovalTimeout" },
            INTERRUPT: { target: "interrupting", actions: "markInterruptRequested" },
          },
        },
        reconciling: {
          on: {
            ACTIVITY: "active",
            INTERRUPT: { target: "interrupting", actions: "markInterruptRequested" },
          },
          initial: "grace",
          states: {
            grace: { after: { idleGrace: "reading" } },
            reading: {
              invoke: {
                src: "readTurn",
                input: ({ context }) => ({ runId: context.runId, turnId: context.turnId }),
                onDone: [
                  {
                    guard: "outcomeSettled",
                    target: "#run.settle",
                    actions: assign({ turnStatus: ({ event }) => event.output.status }),
                  },
                  { target: "#run.running.active" },
                ],
                onError: { target: "#run.running.active" },
              },
            },
          },
        },
        interrupting: {
          invoke: {
            src: "interruptTurn",
            input: ({ context }) => ({ runId: context.runId, turnId: context.turnId }),
          },
          // turn/completed (interrupted) normally follows; if it never comes, fail the run anyway.
          after: { interruptGrace: { target: "#run.failed", actions: "failInterruptTimeout" } },
        },
      },
    },
    /** A turn outcome learned from thread/read rather than from turn/completed. */
    settle: {
      always: [
        { guard: ({ context }) => context.turnStatus === "completed", target: "completed" },
        {
          target: "failed",
          actions: assign({
            failure: ({ context }) =>
              context.interruptReason ?? {
                code:
                  context.turnStatus === "interrupted" ? ("interrupted" as const) : ("turn-failed" as const),
                message: `the turn ended ${context.turnStatus ?? "without a status"} (from thread/read)`,
              },
          }),
        },
      ],
    },
    completed: { type: "final" },
    failed: { type: "final" },
  },
})

export type RunMachine = typeof runMachine
