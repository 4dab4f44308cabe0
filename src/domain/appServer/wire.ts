/**
 * Building blocks for the app-server's wire records. The server's protocol grows with every release,
 * so records we decode keep the fields they do not name (`openStruct`): codexd types what it relies
 * on and passes the rest through untouched.
 */
import * as Schema from "effect/Schema"

export const openStruct = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.StructWithRest(Schema.Struct(fields), [Schema.Record(Schema.String, Schema.Unknown)])

export const optional = <S extends Schema.Top>(schema: S): Schema.optionalKey<S> => Schema.optionalKey(schema)

export const RequestId = Schema.Union([Schema.Int, Schema.String])
export type RequestId = typeof RequestId.Type

export const JsonObject = Schema.Record(Schema.String, Schema.Unknown)
export type JsonObject = typeof JsonObject.Type
