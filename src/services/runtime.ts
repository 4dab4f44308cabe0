/**
 * The one edge between Effect and the callback worlds beside it (XState actors, node:http handlers,
 * node streams). A `Bridge` is built inside a layer from that layer's own context, so what it runs
 * sees the layer's services, logger and Clock (a `TestClock` in tests), and every fiber it starts
 * belongs to the layer's scope: closing the scope interrupts them, so nothing outlives the daemon.
 *
 * - `fork` runs fire-and-forget work in a scope-owned FiberSet; a failure is logged, never lost.
 * - `run` runs an effect for a promise-based caller; an AbortSignal interrupts it.
 * - `fromEffect` makes an XState promise actor of an Effect program: the actor's AbortSignal (it
 *   fires when the machine leaves the invoking state) interrupts the program, and a tagged failure
 *   becomes the actor's error.
 * - `fromScoped` makes an XState callback actor of a scoped program that lives as long as the actor:
 *   stopping the actor interrupts it and closes its scope (processes stopped, connections closed).
 * - `clock` is an XState clock on Effect's `Clock`, so a machine's `after` delays move with TestClock.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import {
  type CallbackActorLogic,
  type EventObject,
  fromCallback,
  fromPromise,
  type PromiseActorLogic,
} from "xstate"
import { type ActorClock, makeActorTimers } from "./actorTimers.ts"

export interface Bridge<R> {
  readonly fork: <A, E>(effect: Effect.Effect<A, E, R>) => void
  readonly run: <A, E>(effect: Effect.Effect<A, E, R>, signal?: AbortSignal) => Promise<A>
  readonly fromEffect: <Output, Input, E>(
    program: (input: Input) => Effect.Effect<Output, E, R>,
  ) => PromiseActorLogic<Output, Input>
  readonly fromScoped: <Event extends EventObject, Input>(
    program: (input: Input, sendBack: (event: Event) => void) => Effect.Effect<void, never, R | Scope.Scope>,
  ) => CallbackActorLogic<Event, Input>
  readonly clock: ActorClock
}

const logFailure =
  (what: string) =>
  <E>(cause: Cause.Cause<E>): Effect.Effect<void> =>
    Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError(`${what} failed`, cause)

/** A bridge for the services of the current context; its fibers are interrupted when the scope closes. */
export const makeBridge = <R = never>(): Effect.Effect<Bridge<R>, never, Scope.Scope | R> =>
  Effect.gen(function* () {
    const forkFiber = yield* FiberSet.makeRuntime<R>()
    const toPromise = yield* FiberSet.makeRuntimePromise<R>()

    const fork = <A, E>(effect: Effect.Effect<A, E, R>): Fiber.Fiber<unknown, unknown> =>
      forkFiber(effect.pipe(Effect.catchCause(logFailure("background work"))))

    const run = <A, E>(effect: Effect.Effect<A, E, R>, signal?: AbortSignal): Promise<A> =>
      toPromise(effect, signal === undefined ? undefined : { signal })

    const clock = yield* makeActorTimers()

    const fromEffect = <Output, Input, E>(
      program: (input: Input) => Effect.Effect<Output, E, R>,
    ): PromiseActorLogic<Output, Input> =>
      fromPromise<Output, Input>(({ input, signal }) => run(program(input), signal))

    const fromScoped = <Event extends EventObject, Input>(
      program: (
        input: Input,
        sendBack: (event: Event) => void,
      ) => Effect.Effect<void, never, R | Scope.Scope>,
    ): CallbackActorLogic<Event, Input> =>
      fromCallback<Event, Input>(({ input, sendBack }) => {
        const fiber = fork(Effect.scoped(program(input, sendBack)) as Effect.Effect<void, never, R>)
        return () => fiber.interruptUnsafe()
      })

    const bridge: Bridge<R> = { fork: (effect) => void fork(effect), run, fromEffect, fromScoped, clock }
    return bridge
  })
