/**
 * The dashboard's HTML: a shell the page's script fills from the API (the CSRF token and the event
 * stream's path in meta tags, the machines drawn here on the server), and the page a browser without
 * a session gets, which says only how to sign in. The CSP lets the page load scripts, styles and data
 * from this address and nothing else; the one inline script, the import map, is allowed by its hash.
 */
import { createHash } from "node:crypto"
import type { AnyStateMachine } from "xstate"
import { toMermaid } from "../../machines/mermaid.ts"
import { escapeHtml } from "../api/docsPage.ts"
import { ASSET_PREFIX, importMap } from "./dashboardAssets.ts"
import { machineSvg } from "./machineSvg.ts"

const importMapText = JSON.stringify(importMap)
const importMapHash = createHash("sha256").update(importMapText).digest("base64")

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${importMapHash}'`,
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ")

const head = (title: string, extra: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>${extra}</head>`

const machinesSection = (machines: ReadonlyArray<readonly [string, AnyStateMachine]>) =>
  machines
    .map(
      ([name, machine]) =>
        `<figure><figcaption>${escapeHtml(name)} <span class="muted" data-machine-state="${escapeHtml(name)}"></span></figcaption>
${machineSvg(name, machine)}
<details><summary>transitions (Mermaid)</summary><pre>${escapeHtml(toMermaid(machine))}</pre></details></figure>`,
    )
    .join("\n")

export const dashboardHtml = (options: {
  readonly csrfToken: string
  readonly eventStreamPath: string
  readonly machines: ReadonlyArray<readonly [string, AnyStateMachine]>
}): string =>
  `${head(
    "codexd",
    `<meta name="codexd-csrf" content="${escapeHtml(options.csrfToken)}">
<meta name="codexd-events" content="${escapeHtml(options.eventStreamPath)}">
<link rel="stylesheet" href="${ASSET_PREFIX}dashboard.css">
<script type="importmap">${importMapText}</script>
<script type="module" src="${ASSET_PREFIX}app.js"></script>`,
  )}
<body><div id="app"><p class="muted">loading…</p></div>
<section id="machines" class="panel"><h2>Machines</h2>${machinesSection(options.machines)}</section>
</body></html>\n`

export const signInHtml = (problem: string | null): string =>
  `${head("codexd: sign in", `<link rel="stylesheet" href="${ASSET_PREFIX}dashboard.css">`)}
<body><main class="sign-in"><h1>codexd</h1>
${problem === null ? "" : `<p class="error">${escapeHtml(problem)}</p>`}
<p>This dashboard needs a sign-in link. In the project's directory, run</p>
<pre>codexd open</pre>
<p>It opens (or, with <code>--print</code>, prints) a one-time address that signs this browser in.</p>
</main></body></html>\n`
