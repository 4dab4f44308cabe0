/**
 * Sessions: the sessions and the thread each one runs on. Owns starting, resuming and replacing
 * threads and the session records (through the RunStore). Does not own turns (Runs) or the child
 * (Supervisor).
 *
 * A thread lives in one app-server process; after the child restarts (or the daemon does), a
 * session's thread is resumed on the new child before its next turn. codex persists a thread only
 * once a turn of it completed, so resuming a younger one fails with `UnknownThreadError`: only then
 * does the session move to a new thread (recorded as an event naming both). A transport error never
 * replaces a thread; it fails the attempt.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { CodexdConfig } from "../../config.ts"
import { AskForApproval, type ThreadStartParams } from "../../domain/appServer/protocol.ts"
import {
  type AppServerUnavailableError,
  InvalidOptionError,
  SessionClosedError,
  SessionNotFoundError,
} from "../../domain/errors.ts"
import type { EventInput } from "../../domain/event.ts"
import type { SessionId } from "../../domain/ids.ts"
import { newSessionRecord, type SessionRecord, type SessionSpec } from "../../domain/session.ts"
import { sandboxModeOf } from "../../domain/turnOptions.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import type { AppServerError } from "../appServer/appServerErrors.ts"
import { EventLog } from "../events/EventLog.ts"
import { RunStore } from "../store/RunStore.ts"
import type { StoreError } from "../store/Store.ts"
import { Supervisor } from "../supervisor/Supervisor.ts"

export type ThreadError = AppServerError | SessionNotFoundError | SessionClosedError | StoreError

/** The session options `codex exec` cannot carry out. */
const EXEC_REFUSES = ["sandboxPolicy", "developerInstructions", "baseInstructions"] as const

export class Sessions extends Context.Service<
  Sessions,
  {
    /** Record a session and start its thread on the current child. */
    readonly create: (
      spec: SessionSpec,
    ) => Effect.Effect<
      SessionRecord,
      InvalidOptionError | AppServerError | AppServerUnavailableError | StoreError
    >
    /** Record a session whose thread starts with its first run (a worker session made for a run). */
    readonly record: (spec: SessionSpec) => Effect.Effect<SessionRecord, StoreError>
    readonly get: (sessionId: SessionId) => Effect.Effect<SessionRecord, SessionNotFoundError | StoreError>
    readonly list: Effect.Effect<ReadonlyArray<SessionRecord>, StoreError>
    readonly close: (sessionId: SessionId) => Effect.Effect<SessionRecord, SessionNotFoundError | StoreError>
    /** The thread for the session's next turn on `client`: started, resumed or replaced as needed. */
    readonly threadFor: (sessionId: SessionId, client: AppServerClient) => Effect.Effect<string, ThreadError>
    /** Exec mode: a run's `codex exec` said which thread it is on (new, or the one it resumed). */
    readonly execThreadStarted: (sessionId: SessionId, threadId: string) => Effect.Effect<void>
    /** A new session on a fork of the session's thread, through `throughTurnId` (null: all of it). */
    readonly fork: (
      sessionId: SessionId,
      throughTurnId: string | null,
    ) => Effect.Effect<SessionRecord, ThreadError | AppServerUnavailableError>
    /** The session's thread history without `beforeTurnId` and every later turn (files are not touched). */
    readonly revert: (
      sessionId: SessionId,
      beforeTurnId: string,
    ) => Effect.Effect<SessionRecord, ThreadError | AppServerUnavailableError>
    readonly turnStarted: (sessionId: SessionId, turnId: string) => Effect.Effect<void>
    readonly turnEnded: (sessionId: SessionId, turnId: string | null, status: string) => Effect.Effect<void>
  }
>()("codexd/Sessions") {
  static readonly layer: Layer.Layer<Sessions, never, CodexdConfig | RunStore | EventLog | Supervisor> =
    Layer.effect(
      Sessions,
      Effect.gen(function* () {
        const config = yield* CodexdConfig
        const store = yield* RunStore
        const events = yield* EventLog
        const supervisor = yield* Supervisor
        /** Which sessions have their thread loaded in which app-server connection. */
        const attached = new WeakMap<AppServerClient, Set<SessionId>>()
        const attachedOn = (client: AppServerClient) => {
          let set = attached.get(client)
          if (set === undefined) {
            set = new Set()
            attached.set(client, set)
          }
          return set
        }
        const childPid = Effect.map(supervisor.current, (child) => child.state.pid)

        /** The event of a session landing on `threadId`: its first thread, the same one again, or another. */
        const threadEvent = (
          sessionId: SessionId,
          threadId: string,
          previous: string | null,
          whyReplaced = "",
        ): EventInput => {
          const ids = { sessionId, threadId }
          if (previous === null)
            return {
              type: "session.thread.started",
              message: `session ${sessionId} on thread ${threadId}`,
              detail: ids,
            }
          if (previous === threadId)
            return {
              type: "session.thread.resumed",
              message: `session ${sessionId} resumed thread ${threadId}`,
              detail: ids,
            }
          return {
            level: "warn",
            type: "session.thread.replaced",
            message: `session ${sessionId} moved from thread ${previous}${whyReplaced} to ${threadId}`,
            detail: { ...ids, previousThreadId: previous },
          }
        }

        const find = (sessionId: SessionId) =>
          Effect.flatMap(store.sessions.get(sessionId), (session) =>
            session === null ? Effect.fail(new SessionNotFoundError({ sessionId })) : Effect.succeed(session),
          )

        // Session records are never removed: one that vanished between a read and a write is a bug.
        const update = (sessionId: SessionId, f: (session: SessionRecord) => SessionRecord) =>
          Effect.flatMap(store.sessions.update(sessionId, f), (session) =>
            session === null ? Effect.die(new SessionNotFoundError({ sessionId })) : Effect.succeed(session),
          )

        const quietly = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.asVoid(effect).pipe(
            Effect.catch((error) => Effect.logError(`session not saved: ${String(error)}`)),
          )

        const threadParams = (session: SessionRecord): ThreadStartParams => ({
          cwd: session.cwd,
          model: session.model,
          modelProvider: session.modelProvider,
          serviceTier: session.serviceTier,
          ...(session.approvalPolicy === null ? {} : { approvalPolicy: session.approvalPolicy }),
          ...(session.sandbox === null ? {} : { sandbox: session.sandbox }),
          ...(session.developerInstructions == null
            ? {}
            : { developerInstructions: session.developerInstructions }),
          ...(session.baseInstructions == null ? {} : { baseInstructions: session.baseInstructions }),
          serviceName: "codexd",
        })

        const startThread = (session: SessionRecord, client: AppServerClient, replacing: string | null) =>
          Effect.gen(function* () {
            const started = yield* client.threadStart(threadParams(session))
            const threadId = started.thread.id
            attachedOn(client).add(session.sessionId)
            const pid = yield* childPid
            yield* update(session.sessionId, (s) => ({
              ...s,
              threadId,
              childPid: pid,
              // What codex chose where the session left it open: each turn then sends the
              // session's values, so one run's override does not carry over to the next.
              model: s.model ?? started.model ?? null,
              modelProvider: s.modelProvider ?? started.modelProvider ?? null,
              reasoningEffort: s.reasoningEffort ?? started.reasoningEffort ?? null,
              sandbox: s.sandbox ?? sandboxModeOf(started.sandbox),
              approvalPolicy:
                s.approvalPolicy ??
                (Schema.is(AskForApproval)(started.approvalPolicy) ? started.approvalPolicy : null),
            }))
            yield* events.publish(threadEvent(session.sessionId, threadId, replacing, " (unknown to codex)"))
            return threadId
          })

        const resumeThread = (session: SessionRecord, threadId: string, client: AppServerClient) =>
          Effect.gen(function* () {
            yield* client.threadResume({ ...threadParams(session), threadId, excludeTurns: true })
            attachedOn(client).add(session.sessionId)
            const pid = yield* childPid
            yield* update(session.sessionId, (s) => ({ ...s, childPid: pid }))
            yield* events.publish(threadEvent(session.sessionId, threadId, threadId))
            return threadId
          })

        const record = (spec: SessionSpec) =>
          Effect.gen(function* () {
            const now = new Date(yield* Clock.currentTimeMillis).toISOString()
            const session = newSessionRecord(
              spec,
              { approvals: config.runs.approvals, endpoint: config.server.endpoint },
              now,
            )
            yield* store.sessions.insert(session)
            yield* events.publish({
              type: "session.created",
              message: `session ${session.sessionId} (${session.purpose}) created`,
              detail: {
                sessionId: session.sessionId,
                purpose: session.purpose,
                approvals: session.approvals,
              },
            })
            return session
          })

        const threadFor = (sessionId: SessionId, client: AppServerClient) =>
          Effect.gen(function* () {
            const session = yield* find(sessionId)
            if (session.status === "closed") return yield* Effect.fail(new SessionClosedError({ sessionId }))
            if (session.threadId === null) return yield* startThread(session, client, null)
            if (attachedOn(client).has(sessionId)) return session.threadId
            const previous = session.threadId
            return yield* resumeThread(session, previous, client).pipe(
              Effect.catchTag("UnknownThreadError", () => startThread(session, client, previous)),
            )
          })

        const fork = (sessionId: SessionId, throughTurnId: string | null) =>
          Effect.gen(function* () {
            const client = yield* supervisor.client
            const threadId = yield* threadFor(sessionId, client)
            const source = yield* find(sessionId)
            const forked = yield* client.threadFork({
              threadId,
              ...(throughTurnId === null ? {} : { lastTurnId: throughTurnId }),
            })
            const { sessionId: _, threadId: __, metadata, ...settings } = source
            const session = yield* record({ ...settings, metadata: { ...metadata, forkedFrom: sessionId } })
            attachedOn(client).add(session.sessionId)
            const pid = yield* childPid
            const onThread = yield* update(session.sessionId, (s) => ({
              ...s,
              threadId: forked.thread.id,
              childPid: pid,
            }))
            yield* events.publish({
              type: "session.forked",
              message: `session ${session.sessionId} forked from session ${sessionId} (thread ${threadId} to ${forked.thread.id})`,
              detail: {
                sessionId: session.sessionId,
                threadId: forked.thread.id,
                fromSessionId: sessionId,
                fromThreadId: threadId,
                throughTurnId,
              },
            })
            return onThread
          })

        const revert = (sessionId: SessionId, beforeTurnId: string) =>
          Effect.gen(function* () {
            const client = yield* supervisor.client
            const threadId = yield* threadFor(sessionId, client)
            yield* client.threadRevert({ threadId, beforeTurnId })
            const reverted = yield* update(sessionId, (s) => ({
              ...s,
              lastTurnId: null,
              lastTurnStatus: null,
            }))
            yield* events.publish({
              type: "session.reverted",
              message: `session ${sessionId} reverted to before turn ${beforeTurnId}`,
              detail: { sessionId, threadId, beforeTurnId },
            })
            return reverted
          })

        return Sessions.of({
          record,
          fork,
          revert,
          create: (spec) =>
            Effect.gen(function* () {
              // Exec mode: the thread is made by the session's first run (`codex exec` starts it),
              // and `codex exec` has no flag for the thread options below.
              if (config.server.mode === "exec") {
                const refused = EXEC_REFUSES.find((name) => spec[name] != null)
                if (refused !== undefined)
                  return yield* Effect.fail(
                    new InvalidOptionError({
                      option: refused,
                      reason: "codex exec does not take it (exec mode)",
                    }),
                  )
                return { ...(yield* record(spec)), childPid: null }
              }
              const client = yield* supervisor.client
              const session = yield* record(spec)
              const threadId = yield* startThread(session, client, null).pipe(
                Effect.tapError((error) =>
                  quietly(update(session.sessionId, (s) => ({ ...s, status: "closed" }))).pipe(
                    Effect.andThen(
                      events.publish({
                        level: "error",
                        type: "session.failed",
                        message: `session ${session.sessionId} could not start a thread: ${error.message}`,
                        detail: { sessionId: session.sessionId, error: error.message },
                      }),
                    ),
                  ),
                ),
              )
              return { ...session, threadId, childPid: yield* childPid }
            }),
          get: find,
          list: store.sessions.list,
          close: (sessionId) =>
            Effect.gen(function* () {
              const session = yield* find(sessionId)
              if (session.status === "closed") return session
              const closed = yield* update(sessionId, (s) => ({ ...s, status: "closed" }))
              const { client } = yield* supervisor.current
              if (client !== null && session.threadId !== null && attachedOn(client).delete(sessionId)) {
                // Best effort: the thread is ours to drop, and a failure here changes nothing recorded.
                yield* Effect.ignore(client.threadUnsubscribe({ threadId: session.threadId }))
              }
              yield* events.publish({
                type: "session.closed",
                message: `session ${sessionId} closed`,
                detail: { sessionId, threadId: session.threadId },
              })
              return closed
            }),
          threadFor,
          execThreadStarted: (sessionId, threadId) =>
            quietly(
              Effect.gen(function* () {
                const session = yield* find(sessionId)
                if (session.threadId !== threadId) yield* update(sessionId, (s) => ({ ...s, threadId }))
                yield* events.publish(threadEvent(sessionId, threadId, session.threadId))
              }),
            ),
          turnStarted: (sessionId, turnId) =>
            quietly(update(sessionId, (s) => ({ ...s, currentTurnId: turnId }))),
          turnEnded: (sessionId, turnId, status) =>
            quietly(
              update(sessionId, (s) => ({
                ...s,
                currentTurnId: null,
                lastTurnId: turnId ?? s.lastTurnId,
                lastTurnStatus: status,
              })),
            ),
        })
      }),
    )
}
