/**
 * The cluster's tables, created and migrated when a node starts. Migrations run one after another
 * under a transaction-scoped advisory lock, so nodes starting together migrate once; a database whose
 * schema is newer than this codexd knows is refused (an older codexd would misread it).
 *
 *   codexd_nodes     one row per node: its lease (heartbeat), capacity and API address
 *   codexd_sessions  session records, the node that owns the session's thread, the run it is serving
 *   codexd_runs      run records (the record as JSON, its status as a column to filter on)
 *   codexd_queue     runs waiting or claimed: who claimed each, in the order they came
 */
import * as Effect from "effect/Effect"
import { StoreError } from "../store/Store.ts"
import type { Database } from "./pgDatabase.ts"

const MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE codexd_nodes (
     node_id text PRIMARY KEY,
     api_base text,
     max_runs integer NOT NULL,
     state text NOT NULL,
     started_at timestamptz NOT NULL,
     heartbeat_at timestamptz NOT NULL
   );
   CREATE TABLE codexd_sessions (
     session_id text PRIMARY KEY,
     owner_node text,
     active_run text,
     last_served bigint,
     created_seq bigserial,
     record jsonb NOT NULL
   );
   CREATE TABLE codexd_runs (
     run_id text PRIMARY KEY,
     session_id text,
     status text NOT NULL,
     created_seq bigserial,
     record jsonb NOT NULL
   );
   CREATE INDEX codexd_runs_unfinished ON codexd_runs (status) WHERE status IN ('queued', 'running');
   CREATE TABLE codexd_queue (
     seq bigserial PRIMARY KEY,
     run_id text NOT NULL UNIQUE,
     session_id text NOT NULL,
     claimed_by text,
     claimed_at timestamptz
   );
   CREATE INDEX codexd_queue_session ON codexd_queue (session_id, seq);
   CREATE INDEX codexd_queue_claims ON codexd_queue (claimed_by);
   CREATE SEQUENCE codexd_served;`,
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** Any stable number: the advisory lock that serializes migrations across nodes. */
const MIGRATION_LOCK = 0x636f6478

/** Brings the schema to this codexd's version; fails when the database's is newer. */
export const migrate = (db: Database): Effect.Effect<number, StoreError> =>
  Effect.flatMap(
    db.transaction("migrate", async (sql) => {
      await sql("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK])
      await sql(
        "CREATE TABLE IF NOT EXISTS codexd_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
      )
      const rows = (await sql("SELECT version FROM codexd_schema WHERE id = 1")).rows
      const found = rows.length === 0 ? 0 : Number(rows[0].version)
      if (found > SCHEMA_VERSION) return { newer: found }
      for (let v = found; v < SCHEMA_VERSION; v++) await sql(MIGRATIONS[v] as string)
      await sql(
        "INSERT INTO codexd_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = $1",
        [SCHEMA_VERSION],
      )
      return { newer: null }
    }),
    ({ newer }) =>
      newer === null
        ? Effect.succeed(SCHEMA_VERSION)
        : Effect.fail(
            new StoreError({
              path: db.where,
              operation: "use",
              reason: `its schema is version ${newer}, newer than this codexd's ${SCHEMA_VERSION}: upgrade codexd`,
            }),
          ),
  )
