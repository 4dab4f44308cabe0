/** JSON values as the contracts use them: free-form `detail`, `result` and `metadata` fields. */
import * as Schema from "effect/Schema"

export const StringRecord = Schema.Record(Schema.String, Schema.String)
export type StringRecord = typeof StringRecord.Type

export const UnknownRecord = Schema.Record(Schema.String, Schema.Unknown)
export type UnknownRecord = typeof UnknownRecord.Type

/** An ISO-8601 timestamp as written by `Date.prototype.toISOString`. */
export const Timestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, {
    message: "Expected an ISO-8601 UTC timestamp",
  }),
)
export type Timestamp = typeof Timestamp.Type

export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
export const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
