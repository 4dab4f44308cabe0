/** `GET /openapi.json`: the API described from its route tables, so the description cannot drift. */
import * as Schema from "effect/Schema"
import { ErrorAnswer } from "../../domain/apiAnswers.ts"
import type { Route } from "./routeTable.ts"

const schemaOf = (schema: Schema.Top) => Schema.toJsonSchemaDocument(schema).schema

const errorResponse = {
  description: "an error: its code, a sentence, and the request field at fault when there is one",
  content: { "application/json": { schema: schemaOf(ErrorAnswer) } },
}

export const openApiDocument = <E, R>(routes: ReadonlyArray<Route<E, R>>) => {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.pattern.replace(/:(\w+)/g, "{$1}")
    const params = [...route.pattern.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }))
    const success =
      route.kind === "raw"
        ? { description: route.contentType, content: { [route.contentType]: {} } }
        : route.response === undefined
          ? { description: "the answer, JSON", content: { "application/json": {} } }
          : {
              description: "the answer",
              content: { "application/json": { schema: schemaOf(route.response) } },
            }
    paths[path] ??= {}
    ;(paths[path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: route.summary,
      ...(route.auth === "none" ? { security: [] } : {}),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(route.kind === "json" && route.body !== undefined
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: schemaOf(route.body) } },
            },
          }
        : {}),
      responses: { "2XX": success, "4XX": errorResponse, "5XX": errorResponse },
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "codexd local API", version: "1" },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  }
}
