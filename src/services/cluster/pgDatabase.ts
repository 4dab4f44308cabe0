/**
 * The shared database of a cluster, as Effect programs: a `pg` connection pool owned by a scope,
 * queries and transactions whose failures are `StoreError`s naming the database (never its
 * password), and the listener that wakes a node when another one changed the queue.
 *
 * `pg` (node-postgres) is the client: a well-kept driver with pooling and LISTEN/NOTIFY.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import pg from "pg"
import { StoreError } from "../store/Store.ts"

export type Sql = (text: string, values?: ReadonlyArray<unknown>) => Promise<pg.QueryResult>

export interface Database {
  /** Where it is, without credentials: what errors and `nodes` name. */
  readonly where: string
  readonly query: <Row = Record<string, unknown>>(
    operation: string,
    text: string,
    values?: ReadonlyArray<unknown>,
  ) => Effect.Effect<ReadonlyArray<Row>, StoreError>
  /** `body` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  readonly transaction: <A>(operation: string, body: (sql: Sql) => Promise<A>) => Effect.Effect<A, StoreError>
  /** Calls `onNotify` for each NOTIFY on `channel`, on a connection of its own, until the scope closes. */
  readonly listen: (channel: string, onNotify: () => void) => Effect.Effect<void, StoreError, Scope.Scope>
}

/** `postgres://user:secret@host:5432/db` → `postgres://host:5432/db`. */
export const withoutCredentials = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.username = ""
    parsed.password = ""
    return parsed.toString()
  } catch {
    return "the queue database"
  }
}

const reasonOf = (cause: unknown): string => {
  const error = cause as { message?: unknown; code?: unknown }
  const text = typeof error?.message === "string" && error.message !== "" ? error.message : String(cause)
  return typeof error?.code === "string" && !text.includes(error.code) ? `${text} (${error.code})` : text
}

export const openDatabase = (
  url: string,
  connections = 10,
): Effect.Effect<Database, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const where = withoutCredentials(url)
    const fail = (operation: string) => (cause: unknown) =>
      new StoreError({ path: where, operation, reason: reasonOf(cause) })
    const pool = yield* Effect.acquireRelease(
      Effect.sync(
        () => new pg.Pool({ connectionString: url, max: connections, connectionTimeoutMillis: 30_000 }),
      ),
      (p) => Effect.promise(() => p.end().catch(() => undefined)),
    )
    // An idle client that loses its server emits `error` on the pool; the next query reports it.
    pool.on("error", () => undefined)

    const query: Database["query"] = (operation, text, values = []) =>
      Effect.tryPromise({
        try: () => pool.query(text, values as Array<unknown>).then((r) => r.rows),
        catch: fail(operation),
      })

    const attempt = async <A>(body: (sql: Sql) => Promise<A>): Promise<A> => {
      const client = await pool.connect()
      try {
        await client.query("BEGIN")
        const result = await body((text, values = []) => client.query(text, values as Array<unknown>))
        await client.query("COMMIT")
        return result
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    }

    // A transaction PostgreSQL chose as a deadlock's victim (or could not serialize) did nothing:
    // it is run again, as the server asks.
    const transaction: Database["transaction"] = (operation, body) =>
      Effect.tryPromise({
        try: async () => {
          for (let tries = 1; ; tries++) {
            try {
              return await attempt(body)
            } catch (error) {
              const code = (error as { code?: unknown }).code
              if (tries >= 10 || (code !== "40P01" && code !== "40001")) throw error
              await new Promise((r) => setTimeout(r, Math.random() * 20 * tries))
            }
          }
        },
        catch: fail(operation),
      })

    const listen: Database["listen"] = (channel, onNotify) =>
      Effect.gen(function* () {
        yield* Effect.acquireRelease(
          Effect.tryPromise({
            try: async () => {
              const c = new pg.Client({ connectionString: url })
              c.on("error", () => undefined)
              await c.connect()
              c.on("notification", () => onNotify())
              await c.query(`LISTEN ${channel}`)
              return c
            },
            catch: fail("listen on"),
          }),
          (c) => Effect.promise(() => c.end().catch(() => undefined)),
        )
      })

    // Said at start, in one line, rather than by the first run.
    yield* query("connect to", "SELECT 1")
    return { where, query, transaction, listen }
  })
