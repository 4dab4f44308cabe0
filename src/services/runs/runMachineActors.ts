/**
 * The runMachine with its turn actors and delays, provided once for every run of a Runs layer: each
 * actor finds its run by the id in its input. (Providing the machine per run rebuilt all its state
 * nodes each time: ~0.2 ms of every run.)
 */
import * as Effect from "effect/Effect"
import { runMachine } from "../../machines/runMachine.ts"
import type { ExecAdapter } from "../exec/ExecAdapter.ts"
import type { Bridge } from "../runtime.ts"
import type { LiveRun } from "./liveRun.ts"

export interface RunMachineTiming {
  readonly silenceTimeoutMs: number
  readonly idleGraceMs: number
  readonly interruptGraceMs: number
}

export const provideRunMachine = (
  bridge: Bridge<never>,
  exec: ExecAdapter["Service"] | null,
  timing: RunMachineTiming,
  runs: ReadonlyMap<string, LiveRun>,
) => {
  /** The run's own program; a run that is gone (it cannot be while its actor lives) is a defect. */
  const withRun = <A, E>(runId: string, program: (run: LiveRun) => Effect.Effect<A, E>) =>
    Effect.suspend(() => {
      const run = runs.get(runId)
      return run === undefined ? Effect.die(new Error(`no live run ${runId}`)) : program(run)
    })
  return runMachine.provide({
    actors: {
      startTurn:
        exec === null
          ? bridge.fromEffect(({ runId, prompt }: { runId: string; prompt: string }) =>
              withRun(runId, (run) => run.startTurn(prompt)),
            )
          : bridge.fromEffect(({ runId, prompt }: { runId: string; prompt: string }) =>
              withRun(runId, (run) => run.startExecTurn(exec, prompt)),
            ),
      interruptTurn: bridge.fromEffect(({ runId, turnId }: { runId: string; turnId: string | null }) =>
        withRun(runId, (run) => run.interruptTurn(turnId)),
      ),
      readTurn: bridge.fromEffect(({ runId, turnId }: { runId: string; turnId: string | null }) =>
        withRun(runId, (run) => run.readTurn(turnId)),
      ),
    },
    delays: {
      silenceTimeout: timing.silenceTimeoutMs,
      idleGrace: timing.idleGraceMs,
      interruptGrace: timing.interruptGraceMs,
    },
  })
}

export type ProvidedRunMachine = ReturnType<typeof provideRunMachine>
