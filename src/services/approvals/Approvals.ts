/**
 * Approvals: answers the approval requests codex sends, by the mode of the run they belong to.
 * Owns the pending approvals (in memory with their deadline fibers, and persisted as records) and
 * the routes from a thread to the run whose turn is active on it. Does not own runs: the Runs service
 * registers a route for each running turn (for as long as a scope lives) and hears back through
 * `signals`, a PubSub of what happened to each run's approvals.
 *
 * No approval waits forever: an asked one is declined at its deadline, cancelled when its run ends or
 * the child exits, cleared when codex withdraws it, and cancelled on start if a crash left it pending.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { CodexdConfig } from "../../config.ts"
import type { ApprovalDecision, ApprovalMode, ApprovalRecord, ApprovalStatus } from "../../domain/approval.ts"
import type { ServerRequest, ServerRequestAnswer } from "../../domain/appServer/serverRequests.ts"
import type { RequestId } from "../../domain/appServer/wire.ts"
import { ApprovalNotFoundError, ApprovalSettledError } from "../../domain/errors.ts"
import { newApprovalId, type RunId, type SessionId } from "../../domain/ids.ts"
import { EventLog } from "../events/EventLog.ts"
import { nowIso } from "../now.ts"
import { Store, type StoreError } from "../store/Store.ts"
import { approvalAnswerFor, approvalRequestDetails, declineNonApproval } from "./approvalRequests.ts"

/** Settled approvals kept in the registry for `codexd approvals`; pending ones are always kept. */
const SETTLED_KEPT = 200

/** Which run a thread's approvals belong to, and what the run knows about them. */
export interface ApprovalRoute {
  readonly runId: RunId
  readonly sessionId: SessionId
  readonly mode: ApprovalMode
  readonly turnId: () => string | null
  /** The proposed diff of a file-change item, when the run has seen the item. */
  readonly diffOf: (itemId: string) => string | null
}

/** What happened to a run's approvals, for the run's machine. */
export type ApprovalSignal =
  /** A person is being asked: the run waits, and its silence watchdog pauses. */
  | { readonly _tag: "Asked"; readonly runId: RunId }
  /** No approval of the run is pending any more. */
  | { readonly _tag: "Settled"; readonly runId: RunId }
  /** An approval reached its deadline and was declined. */
  | { readonly _tag: "Expired"; readonly runId: RunId }

interface Pending {
  readonly record: ApprovalRecord
  readonly request: ServerRequest
  readonly route: ApprovalRoute
  readonly answer: Deferred.Deferred<ServerRequestAnswer>
}

export class Approvals extends Context.Service<
  Approvals,
  {
    /** The AppServerClient's handler for the server requests codexd knows. */
    readonly handleServerRequest: (request: ServerRequest) => Effect.Effect<ServerRequestAnswer>
    /** Send the approvals of `threadId` to this run while the current scope lives. */
    readonly route: (threadId: string, route: ApprovalRoute) => Effect.Effect<void, never, Scope.Scope>
    /** Subscribed at once: every signal from now on. */
    readonly signals: Effect.Effect<Stream.Stream<ApprovalSignal>, never, Scope.Scope>
    readonly answer: (
      approvalId: string,
      decision: ApprovalDecision,
    ) => Effect.Effect<ApprovalRecord, ApprovalNotFoundError | ApprovalSettledError>
    readonly list: Effect.Effect<ReadonlyArray<ApprovalRecord>>
    /** Cancel what is pending for a run that ended. */
    readonly cancelRun: (runId: RunId, reason: string) => Effect.Effect<void>
    /** Cancel everything pending (the child exited: no one is waiting for the answers any more). */
    readonly cancelAll: (reason: string) => Effect.Effect<void>
    /**
     * codex settled a request codexd had not answered (`serverRequest/resolved`): on a shared server
     * another client answered first (or codex withdrew it). Recorded as `resolved-elsewhere`.
     */
    readonly resolved: (threadId: string, requestId: RequestId) => Effect.Effect<void>
  }
>()("codexd/Approvals") {
  static readonly layer: Layer.Layer<Approvals, StoreError, CodexdConfig | Store | EventLog> = Layer.effect(
    Approvals,
    Effect.gen(function* () {
      const config = yield* CodexdConfig
      const store = yield* Store
      const events = yield* EventLog
      const routes = new Map<string, ApprovalRoute>()
      const pending = new Map<string, Pending>()
      const deadlines = yield* FiberMap.make<string>()
      const signals = yield* PubSub.unbounded<ApprovalSignal>()
      const signal = (value: ApprovalSignal) => PubSub.publish(signals, value)

      const save = (record: ApprovalRecord) =>
        store
          .updateApprovals((registry) => {
            const others = registry.approvals.filter((a) => a.approvalId !== record.approvalId)
            const settled = others.filter((a) => a.status !== "pending")
            const drop = new Set(settled.slice(0, Math.max(0, settled.length - SETTLED_KEPT)))
            return { ...registry, approvals: [...others.filter((a) => !drop.has(a)), record] }
          })
          .pipe(Effect.catch((error) => Effect.logError(`approval not saved: ${error.message}`)))

      const idsOf = (record: ApprovalRecord) => ({
        approvalId: record.approvalId,
        runId: record.runId,
        sessionId: record.sessionId,
        threadId: record.threadId,
        turnId: record.turnId,
      })

      // A crash left these pending; the child that asked is gone, so nobody can use an answer.
      const orphaned = (yield* store.approvals).approvals.filter((a) => a.status === "pending")
      for (const record of orphaned) {
        const cancelled = {
          ...record,
          status: "cancelled" as const,
          decision: null,
          settledAt: yield* nowIso,
        }
        yield* save(cancelled)
        yield* events.publish({
          level: "warn",
          type: "approval.cancelled",
          message: `approval ${record.approvalId} cancelled: the daemon restarted`,
          detail: { ...idsOf(record), reason: "daemon-restarted" },
        })
      }

      const settle = (
        entry: Pending,
        status: Exclude<ApprovalStatus, "pending">,
        decision: ApprovalDecision | null,
        reason: string,
      ) =>
        Effect.gen(function* () {
          if (pending.get(entry.record.approvalId) !== entry) return entry.record
          pending.delete(entry.record.approvalId)
          // The deadline's own fiber settles an expired one; it must not interrupt itself.
          if (status !== "expired") yield* FiberMap.remove(deadlines, entry.record.approvalId)
          const record: ApprovalRecord = { ...entry.record, status, decision, settledAt: yield* nowIso }
          yield* save(record)
          yield* events.publish({
            level: status === "expired" ? "warn" : "info",
            type: `approval.${status}`,
            message: `approval ${record.approvalId} ${status}${decision === null ? "" : ` (${decision})`}: ${reason}`,
            detail: { ...idsOf(record), decision, reason },
          })
          // After `serverRequest/resolved` codex expects no answer and ignores one: one path fits all.
          yield* Deferred.succeed(entry.answer, approvalAnswerFor(entry.request, decision ?? "cancel"))
          const runId = entry.record.runId
          if (status === "expired") yield* signal({ _tag: "Expired", runId })
          const runStillWaits = [...pending.values()].some((p) => p.record.runId === runId)
          if (!runStillWaits && status !== "cancelled") yield* signal({ _tag: "Settled", runId })
          return record
        })

      const ask = (
        request: ServerRequest,
        details: NonNullable<ReturnType<typeof approvalRequestDetails>>,
        route: ApprovalRoute,
      ) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const record: ApprovalRecord = {
            approvalId: newApprovalId(),
            runId: route.runId,
            sessionId: route.sessionId,
            threadId: details.threadId ?? "",
            turnId: details.turnId ?? route.turnId() ?? "",
            itemId: details.itemId ?? "",
            kind: details.kind,
            status: "pending",
            command: details.command,
            cwd: details.cwd,
            reason: details.reason,
            diff: details.itemId === null ? null : route.diffOf(details.itemId),
            availableDecisions: [...details.availableDecisions],
            decision: null,
            createdAt: new Date(now).toISOString(),
            deadlineAt: new Date(now + config.runs.approvalTimeoutMs).toISOString(),
            settledAt: null,
          }
          const answer = yield* Deferred.make<ServerRequestAnswer>()
          const entry: Pending = { record, request, route, answer }
          pending.set(record.approvalId, entry)
          yield* FiberMap.run(
            deadlines,
            record.approvalId,
            Effect.sleep(config.runs.approvalTimeoutMs).pipe(
              Effect.andThen(settle(entry, "expired", "decline", "not answered before its deadline")),
            ),
          )
          yield* save(record)
          yield* events.publish({
            level: "warn",
            type: "approval.requested",
            message: `approval ${record.approvalId} asked: ${details.kind}${details.command === null ? "" : ` \`${details.command}\``}`,
            detail: {
              ...idsOf(record),
              kind: record.kind,
              command: record.command,
              cwd: record.cwd,
              reason: record.reason,
              deadlineAt: record.deadlineAt,
              availableDecisions: record.availableDecisions,
            },
          })
          yield* signal({ _tag: "Asked", runId: route.runId })
          return yield* Deferred.await(answer)
        })

      const handleServerRequest = (request: ServerRequest): Effect.Effect<ServerRequestAnswer> =>
        Effect.gen(function* () {
          const details = approvalRequestDetails(request)
          if (details === null) {
            yield* events.publish({
              level: "warn",
              type: "serverRequest.declined",
              message: `declined ${request.method}: codexd has no one to ask`,
              detail: { method: request.method, requestId: request.id },
            })
            return declineNonApproval(request)
          }
          const route = details.threadId === null ? undefined : routes.get(details.threadId)
          if (route === undefined) {
            yield* events.publish({
              level: "warn",
              type: "approval.declined",
              message: `declined ${details.kind} approval on thread ${details.threadId}: no run of codexd owns it`,
              detail: { threadId: details.threadId, turnId: details.turnId, requestId: request.id },
            })
            return approvalAnswerFor(request, "decline")
          }
          if (route.mode === "ask") return yield* ask(request, details, route)
          const decision: ApprovalDecision = route.mode === "auto-accept" ? "acceptForSession" : "decline"
          yield* events.publish({
            type: "approval.answered",
            message: `${details.kind} approval ${decision} by ${route.mode}${details.command === null ? "" : `: \`${details.command}\``}`,
            detail: {
              runId: route.runId,
              sessionId: route.sessionId,
              threadId: details.threadId,
              turnId: details.turnId,
              kind: details.kind,
              command: details.command,
              decision,
              by: route.mode,
            },
          })
          return approvalAnswerFor(request, decision)
        })

      const cancelWhere = (predicate: (entry: Pending) => boolean, reason: string) =>
        Effect.forEach(
          [...pending.values()].filter(predicate),
          (entry) => settle(entry, "cancelled", "cancel", reason),
          { discard: true },
        )

      // The timers must not outlive the daemon, nor codex wait on an answer that will never come.
      yield* Effect.addFinalizer(() => cancelWhere(() => true, "the daemon is stopping"))

      return Approvals.of({
        handleServerRequest,
        route: (threadId, route) =>
          Effect.acquireRelease(
            Effect.sync(() => routes.set(threadId, route)),
            () =>
              Effect.sync(() => {
                if (routes.get(threadId) === route) routes.delete(threadId)
              }),
          ),
        signals: Effect.map(PubSub.subscribe(signals), Stream.fromSubscription),
        answer: (approvalId, decision) =>
          Effect.gen(function* () {
            const entry = pending.get(approvalId)
            if (entry !== undefined) return yield* settle(entry, "answered", decision, "answered")
            const known = (yield* store.approvals).approvals.find((a) => a.approvalId === approvalId)
            return yield* known === undefined
              ? Effect.fail(new ApprovalNotFoundError({ approvalId }))
              : Effect.fail(new ApprovalSettledError({ approvalId, status: known.status }))
          }),
        list: Effect.map(store.approvals, (registry) => registry.approvals),
        cancelRun: (runId, reason) => cancelWhere((entry) => entry.record.runId === runId, reason),
        cancelAll: (reason) => cancelWhere(() => true, reason),
        resolved: (threadId, requestId) =>
          Effect.forEach(
            [...pending.values()].filter((p) => p.record.threadId === threadId && p.request.id === requestId),
            (entry) =>
              settle(
                entry,
                "resolved-elsewhere",
                null,
                "settled outside codexd (another client of the app-server answered it, or codex withdrew it)",
              ),
            { discard: true },
          ),
      })
    }),
  )
}
