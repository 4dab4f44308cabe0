/**
 * `GET /docs`: the API's OpenAPI document as a page a person reads, rendered here from the document
 * itself (no script, no stylesheet from elsewhere, so it works offline). It holds only what the
 * README says too, routes and shapes, never data, so it needs no token: a browser cannot send one.
 */
import type { ServerResponse } from "node:http"

interface Operation {
  readonly summary?: string
  readonly security?: ReadonlyArray<unknown>
  readonly requestBody?: { readonly content: Record<string, { readonly schema?: unknown }> }
  readonly responses: Record<
    string,
    { readonly description: string; readonly content?: Record<string, { readonly schema?: unknown }> }
  >
}

interface Document {
  readonly info: { readonly title: string; readonly version: string }
  readonly paths: Record<string, Record<string, unknown>>
}

export const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  )

const schemaBlock = (label: string, schema: unknown): string =>
  schema === undefined
    ? ""
    : `<details><summary>${escapeHtml(label)}</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`

const operationHtml = (path: string, method: string, op: Operation): string => {
  const body = op.requestBody === undefined ? undefined : Object.values(op.requestBody.content)[0]?.schema
  const responses = Object.entries(op.responses)
    .map(([status, r]) => {
      const [type, media] = Object.entries(r.content ?? {})[0] ?? []
      return `<li><b>${escapeHtml(status)}</b> ${escapeHtml(r.description)}${type === undefined ? "" : ` <code>${escapeHtml(type)}</code>`}${schemaBlock("schema", media?.schema)}</li>`
    })
    .join("")
  return `<section><h2><span class="m">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h2>
<p>${escapeHtml(op.summary ?? "")}${op.security?.length === 0 ? " <em>(no token)</em>" : ""}</p>
${schemaBlock("request body", body)}<ul>${responses}</ul></section>`
}

export const docsPageHtml = (document: Document): string => {
  const sections = Object.entries(document.paths).flatMap(([path, ops]) =>
    // The operations are the ones `openApi.ts` builds, in the shape `Operation` reads.
    Object.entries(ops).map(([method, op]) => operationHtml(path, method, op as Operation)),
  )
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f4f4;padding:.5rem;overflow:auto}
.m{display:inline-block;min-width:3.5rem;color:#0a58ca}section{border-top:1px solid #ddd}</style></head>
<body><h1>${escapeHtml(document.info.title)} <small>v${escapeHtml(document.info.version)}</small></h1>
<p>Every route but those marked <em>(no token)</em> needs <code>Authorization: Bearer &lt;token&gt;</code>
(<code>.codexd/state/api-token</code>). The document itself: <code>GET /openapi.json</code>.</p>
${sections.join("\n")}</body></html>\n`
}

/** A page, by default one where nothing runs or loads (so a browser refuses anything that would). */
export const sendHtml = (
  res: ServerResponse,
  html: string,
  options: {
    readonly status?: number
    readonly csp?: string
    readonly headers?: Readonly<Record<string, string>>
  } = {},
): void => {
  res.writeHead(options.status ?? 200, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "cache-control": "no-store",
    "content-security-policy": options.csp ?? "default-src 'none'; style-src 'unsafe-inline'",
    ...options.headers,
  })
  res.end(html)
}
