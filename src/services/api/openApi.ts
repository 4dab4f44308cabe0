/** `GET /openapi.json`: the API described from its route table, so the description cannot drift. */
import * as Schema from "effect/Schema"
import type { Route } from "./apiRoutes.ts"

const errorResponse = {
  description: "an error",
  content: {
    "application/json": {
      schema: {
        type: "object",
        properties: {
          error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } } },
        },
      },
    },
  },
}

export const openApiDocument = (routes: ReadonlyArray<Route>, eventStreamPath: string) => {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.pattern.replace(/:(\w+)/g, "{$1}")
    const params = [...route.pattern.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }))
    paths[path] ??= {}
    ;(paths[path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: route.summary,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(route.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content: { "application/json": { schema: Schema.toJsonSchemaDocument(route.body).schema } },
            },
          }),
      responses: { "2XX": { description: "the answer, JSON" }, "4XX": errorResponse, "5XX": errorResponse },
    }
  }
  paths["/healthz"] = {
    get: { summary: "liveness, no token needed", security: [], responses: { "200": { description: "ok" } } },
  }
  paths[eventStreamPath] = {
    get: {
      summary:
        "the live event stream (Server-Sent Events); ?since=SEQ or Last-Event-ID replays, ?runId= and ?sessionId= filter",
      responses: { "200": { description: "text/event-stream" } },
    },
  }
  return {
    openapi: "3.1.0",
    info: { title: "codexd local API", version: "1" },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  }
}
