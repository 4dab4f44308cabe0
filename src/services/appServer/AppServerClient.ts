/**
 * AppServerClient: JSON-RPC over a Transport to one app-server. Owns request/response correlation
 * with per-request timeouts, the initialize handshake, routing of the server's own requests to the
 * caller's handler, and decoding notifications into typed events. Does not own the transport's
 * process, or what events mean to sessions and runs.
 *
 * Failure is sticky: once the transport closes, every pending request fails at once with the
 * TransportClosedError, and so does every later one. Bad lines never break the connection; they
 * become `malformed` events. The events are a Stream (a PubSub's subscription) that ends with a
 * `transport.closed` event once the transport has delivered its last line: whoever reads the
 * stream sees a turn's `turn/completed` still in the pipe before it hears of the close.
 *
 * The client lives in a Scope (the child's or connection's): its server-request handlers are fibers
 * of that scope, and closing it stops them. Request timeouts run on Effect's Clock.
 *
 * Facts of the real server that callers must design around (all seen in the real-peer tests):
 * - after `turn/interrupt`, an approval `cancel` or a steer, an open item may never get `item/completed`;
 *   only `turn/completed` reliably ends a turn;
 * - `turn/start` on a thread with an active turn does not fail: it silently steers that turn, so a
 *   caller must keep one active turn per thread itself;
 * - server requests (approvals) never time out on the server's side: the handler must answer;
 * - closing stdin or SIGTERM ends the server within tens of ms, with no `turn/completed` for the
 *   active turn: the caller learns it from `closed`.
 */
import * as Arr from "effect/Array"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as PubSub from "effect/PubSub"
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type AppServerEvent, malformed, toAppServerEvent } from "../../domain/appServer/events.ts"
import {
  type ClientInfo,
  EmptyResult,
  type InitializeParams,
  InitializeResult,
  type ReviewStartParams,
  ReviewStartResult,
  type ThreadCompactStartParams,
  type ThreadForkParams,
  type ThreadListParams,
  ThreadListResult,
  type ThreadReadParams,
  ThreadReadResult,
  type ThreadResumeParams,
  type ThreadRevertParams,
  ThreadRevertResult,
  ThreadSessionResult,
  type ThreadStartParams,
  type ThreadUnsubscribeParams,
  ThreadUnsubscribeResult,
  type TurnInterruptParams,
  type TurnStartParams,
  TurnStartResult,
  type TurnSteerParams,
  TurnSteerResult,
} from "../../domain/appServer/protocol.ts"
import {
  classifyLine,
  encodeError,
  encodeNotification,
  encodeRequest,
  encodeResult,
  RpcErrorCode,
  type RpcErrorPayload,
} from "../../domain/appServer/rpc.ts"
import {
  isHandledServerRequest,
  type ServerRequestAnswer,
  type ServerRequestHandler,
} from "../../domain/appServer/serverRequests.ts"
import type { RequestId } from "../../domain/appServer/wire.ts"
import { decodeValue } from "../../domain/decode.ts"
import type { Transport } from "../transport/Transport.ts"
import {
  type AppServerError,
  RequestTimeoutError,
  ResultDecodeError,
  RpcError,
  RpcOverloadedError,
  type TransportClosedError,
  UnknownThreadError,
} from "./appServerErrors.ts"

export interface AppServerClientOptions {
  readonly clientInfo: ClientInfo
  readonly experimentalApi?: boolean
  readonly optOutNotificationMethods?: ReadonlyArray<string>
  /** Default 30 s. */
  readonly requestTimeoutMs?: number
  /** Answers approvals and the other server requests codexd knows. Default: method-not-found. */
  readonly onServerRequest?: ServerRequestHandler
}

export interface RequestOptions {
  readonly timeoutMs?: number
}

export interface AppServerClient {
  readonly transport: string
  /** `initialize` then `initialized`; the result is kept in `serverInfo`. */
  readonly initialize: Effect.Effect<InitializeResult, AppServerError>
  readonly serverInfo: () => InitializeResult | null
  readonly request: (
    method: string,
    params?: unknown,
    options?: RequestOptions,
  ) => Effect.Effect<unknown, AppServerError>
  readonly threadStart: (params: ThreadStartParams) => Effect.Effect<ThreadSessionResult, AppServerError>
  /** Fails with `UnknownThreadError` when codex does not know the thread. */
  readonly threadResume: (
    params: ThreadResumeParams,
  ) => Effect.Effect<ThreadSessionResult, AppServerError | UnknownThreadError>
  /** Fails with `UnknownThreadError` when codex has no such thread on disk. */
  readonly threadRead: (
    params: ThreadReadParams,
  ) => Effect.Effect<ThreadReadResult, AppServerError | UnknownThreadError>
  readonly threadList: (params: ThreadListParams) => Effect.Effect<ThreadListResult, AppServerError>
  readonly threadUnsubscribe: (params: ThreadUnsubscribeParams) => Effect.Effect<unknown, AppServerError>
  readonly turnStart: (params: TurnStartParams) => Effect.Effect<TurnStartResult, AppServerError>
  readonly turnSteer: (params: TurnSteerParams) => Effect.Effect<TurnSteerResult, AppServerError>
  readonly turnInterrupt: (params: TurnInterruptParams) => Effect.Effect<unknown, AppServerError>
  /** A new thread with the history of `threadId` (through `lastTurnId`), loaded on this connection. */
  readonly threadFork: (params: ThreadForkParams) => Effect.Effect<ThreadSessionResult, AppServerError>
  readonly threadRevert: (params: ThreadRevertParams) => Effect.Effect<ThreadRevertResult, AppServerError>
  /** Starts a compaction turn (announced by `turn/started`; the answer carries no turn). */
  readonly threadCompactStart: (params: ThreadCompactStartParams) => Effect.Effect<unknown, AppServerError>
  readonly reviewStart: (params: ReviewStartParams) => Effect.Effect<ReviewStartResult, AppServerError>
  /**
   * Every event from now on, ending with `transport.closed`. Subscribes when the stream runs; use
   * `subscribe` to be subscribed before doing anything else.
   */
  readonly events: Stream.Stream<AppServerEvent>
  /** Subscribed at once: the stream holds every event from this moment. */
  readonly subscribe: Effect.Effect<Stream.Stream<AppServerEvent>, never, Scope.Scope>
  /** Succeeds with the reason once the transport has closed. */
  readonly closed: Effect.Effect<TransportClosedError>
  readonly isClosed: () => boolean
  /** Close our side of the transport. */
  readonly close: Effect.Effect<void>
}

const toRpcError = (method: string, error: RpcErrorPayload): RpcError | RpcOverloadedError => {
  const data = error.data === undefined ? {} : { data: error.data }
  return error.code === RpcErrorCode.overloaded
    ? new RpcOverloadedError({ method, message: error.message, ...data })
    : new RpcError({ method, code: error.code, message: error.message, ...data })
}

/**
 * codex answers a resume of a thread it never persisted with an invalid-request error whose text is
 * the only thing that tells it apart from other refusals: read here, at the protocol edge, once.
 */
const UNKNOWN_THREAD = /no rollout found|thread not found|thread not loaded|unknown thread/i

const ends = (event: AppServerEvent): boolean => event.type === "transport.closed"

/** A client over `transport`; it lives as long as the current scope. */
export const makeAppServerClient = (
  transport: Transport,
  options: AppServerClientOptions,
): Effect.Effect<AppServerClient, never, Scope.Scope> =>
  Effect.gen(function* () {
    const defaultTimeoutMs = options.requestTimeoutMs ?? 30_000
    const pending = new Map<
      RequestId,
      { method: string; answer: Deferred.Deferred<unknown, AppServerError> }
    >()
    // Published a chunk of lines at a time: a burst of 500 deltas is one PubSub step, not 500.
    const events = yield* PubSub.unbounded<Arr.NonEmptyReadonlyArray<AppServerEvent>>()
    const closed = yield* Deferred.make<TransportClosedError>()
    const handlers = yield* FiberSet.makeRuntime()
    let nextId = 1
    let closedError: TransportClosedError | null = null
    let serverInfo: InitializeResult | null = null

    let unpublished: Array<AppServerEvent> = []
    const flush = (): void => {
      const batch = unpublished
      if (!Arr.isReadonlyArrayNonEmpty(batch)) return
      unpublished = []
      PubSub.publishUnsafe(events, batch)
    }
    /** The events of one chunk of lines go out together, once the transport has handed it over. */
    const emit = (event: AppServerEvent): void => {
      if (unpublished.length === 0) queueMicrotask(flush)
      unpublished.push(event)
    }

    const answer = (id: RequestId, outcome: ServerRequestAnswer): void => {
      transport.send("result" in outcome ? encodeResult(id, outcome.result) : encodeError(id, outcome.error))
    }

    const handleServerRequest = (id: RequestId, method: string, params: unknown): void => {
      const handler = options.onServerRequest
      if (!isHandledServerRequest(method) || handler === undefined) {
        emit({ type: "serverRequest.unsupported", method, id, params })
        answer(id, {
          error: { code: RpcErrorCode.methodNotFound, message: `codexd does not handle ${method}` },
        })
        return
      }
      handlers(
        handler({ id, method, params }).pipe(
          Effect.catchCause((cause) =>
            Effect.succeed({
              error: { code: RpcErrorCode.internalError, message: `handler failed: ${String(cause)}` },
            }),
          ),
          Effect.tap((outcome) => Effect.sync(() => closedError === null && answer(id, outcome))),
        ),
      )
    }

    transport.start({
      onLine: (line) => {
        const message = classifyLine(line)
        switch (message.kind) {
          case "notification":
            emit(toAppServerEvent(message.method, message.params, message.emittedAtMs))
            return
          case "request":
            handleServerRequest(message.id, message.method, message.params)
            return
          case "response":
          case "errorResponse": {
            const entry = message.id === null ? undefined : pending.get(message.id)
            if (entry === undefined) {
              emit(malformed(line, "response to an unknown or expired request id"))
              return
            }
            pending.delete(message.id as RequestId)
            Deferred.doneUnsafe(
              entry.answer,
              message.kind === "response"
                ? Effect.succeed(message.result)
                : Effect.fail(toRpcError(entry.method, message.error)),
            )
            return
          }
          case "malformed":
            emit(message.event)
        }
      },
      onOversizedLine: (bytes) =>
        emit(malformed("", `line of ${bytes} bytes exceeds the limit and was skipped`)),
      onClose: (error) => {
        closedError = error
        for (const entry of pending.values()) Deferred.doneUnsafe(entry.answer, Effect.fail(error))
        pending.clear()
        Deferred.doneUnsafe(closed, Effect.succeed(error))
        // The last event, after every line before it; late subscribers get it too, so nobody waits
        // on a stream that has ended.
        flush()
        PubSub.endUnsafe(events, [{ type: "transport.closed", reason: error.message }])
      },
    })

    const request = (method: string, params?: unknown, requestOptions: RequestOptions = {}) =>
      Effect.suspend(() => {
        if (closedError !== null) return Effect.fail(closedError)
        const id = nextId++
        const timeoutMs = requestOptions.timeoutMs ?? defaultTimeoutMs
        const reply = Deferred.makeUnsafe<unknown, AppServerError>()
        pending.set(id, { method, answer: reply })
        transport.send(encodeRequest(id, method, params))
        return Deferred.await(reply).pipe(
          Effect.timeoutOrElse({
            duration: timeoutMs,
            orElse: () => Effect.fail(new RequestTimeoutError({ method, timeoutMs })),
          }),
          Effect.ensuring(Effect.sync(() => pending.delete(id))),
        )
      })

    const typed =
      <A>(method: string, schema: Schema.ConstraintDecoder<A>) =>
      (params: unknown, requestOptions?: RequestOptions): Effect.Effect<A, AppServerError> =>
        Effect.flatMap(request(method, params, requestOptions), (result) => {
          const decoded = decodeValue(schema, `${method} result`)(result)
          return Result.isSuccess(decoded)
            ? Effect.succeed(decoded.success)
            : Effect.fail(new ResultDecodeError({ method, message: decoded.failure.message }))
        })

    const initializeParams: InitializeParams = {
      clientInfo: options.clientInfo,
      capabilities: {
        experimentalApi: options.experimentalApi ?? false,
        ...(options.optOutNotificationMethods === undefined
          ? {}
          : { optOutNotificationMethods: options.optOutNotificationMethods }),
      },
    }

    const threadResume = typed("thread/resume", ThreadSessionResult)
    const threadRead = typed("thread/read", ThreadReadResult)
    const unknownThread =
      (threadId: string) =>
      <A>(effect: Effect.Effect<A, AppServerError>) =>
        effect.pipe(
          Effect.catchIf(
            (error): error is RpcError => error._tag === "RpcError" && UNKNOWN_THREAD.test(error.message),
            (error) => Effect.fail(new UnknownThreadError({ threadId, message: error.message })),
          ),
        )
    const subscribe = Effect.map(PubSub.subscribe(events), (subscription) =>
      Stream.fromSubscription(subscription).pipe(Stream.flattenArray, Stream.takeUntil(ends)),
    )

    return {
      transport: transport.describe,
      initialize: typed(
        "initialize",
        InitializeResult,
      )(initializeParams).pipe(
        Effect.tap((result) =>
          Effect.sync(() => {
            serverInfo = result
            transport.send(encodeNotification("initialized"))
          }),
        ),
      ),
      serverInfo: () => serverInfo,
      request,
      threadStart: typed("thread/start", ThreadSessionResult),
      threadResume: (params: ThreadResumeParams) => unknownThread(params.threadId)(threadResume(params)),
      threadRead: (params: ThreadReadParams) => unknownThread(params.threadId)(threadRead(params)),
      threadList: typed("thread/list", ThreadListResult),
      threadUnsubscribe: typed("thread/unsubscribe", ThreadUnsubscribeResult),
      turnStart: typed("turn/start", TurnStartResult),
      turnSteer: typed("turn/steer", TurnSteerResult),
      turnInterrupt: typed("turn/interrupt", EmptyResult),
      threadFork: typed("thread/fork", ThreadSessionResult),
      threadRevert: typed("thread/revert", ThreadRevertResult),
      threadCompactStart: typed("thread/compact/start", EmptyResult),
      reviewStart: typed("review/start", ReviewStartResult),
      events: Stream.fromPubSub(events).pipe(Stream.flattenArray, Stream.takeUntil(ends)),
      subscribe,
      closed: Deferred.await(closed),
      isClosed: () => closedError !== null,
      close: Effect.sync(() => transport.close()),
    } satisfies AppServerClient
  })
