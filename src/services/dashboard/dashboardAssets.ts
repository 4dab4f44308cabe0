/**
 * The dashboard's files, read once from the package and kept in memory: its own scripts and
 * stylesheet (`web/dashboard/`) and the two small client libraries it imports, Preact and htm, taken
 * from their installed npm packages as published (ES modules a browser loads as they are). Nothing
 * comes from a CDN or the network, so the page works offline.
 */
import { readdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, extname, join } from "node:path"
import { packageRoot } from "../../system/packageRoot.ts"

export interface Asset {
  readonly contentType: string
  readonly body: Buffer
}

export const ASSET_PREFIX = "/dashboard/assets/"

const TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
}

/**
 * The libraries, by the bare name the page's modules import them with, each with the module it
 * resolves to and, where that is not the browser's ES module, the file beside it that is (htm's
 * exports give Node its CommonJS build and do not export the ES module's path).
 */
const LIBRARIES: ReadonlyArray<
  readonly [specifier: string, file: string, resolve: string, sibling?: string]
> = [
  ["preact", "preact.mjs", "preact"],
  ["preact/hooks", "hooks.mjs", "preact/hooks"],
  ["htm", "htm.mjs", "htm", "htm.module.js"],
]

/** The import map that lets the page's modules say `from "preact"` without a bundler. */
export const importMap = {
  imports: Object.fromEntries(LIBRARIES.map(([specifier, file]) => [specifier, `${ASSET_PREFIX}${file}`])),
}

let loaded: ReadonlyMap<string, Asset> | undefined

/** Every asset by file name. */
export const dashboardAssets = (): ReadonlyMap<string, Asset> => {
  if (loaded !== undefined) return loaded
  const require = createRequire(join(packageRoot, "package.json"))
  const assets = new Map<string, Asset>()
  for (const [, file, from, sibling] of LIBRARIES) {
    const resolved = require.resolve(from)
    const path = sibling === undefined ? resolved : join(dirname(resolved), sibling)
    assets.set(file, { contentType: TYPES[".mjs"] as string, body: readFileSync(path) })
  }
  const own = join(packageRoot, "web", "dashboard")
  for (const file of readdirSync(own)) {
    const contentType = TYPES[extname(file)]
    if (contentType !== undefined) assets.set(file, { contentType, body: readFileSync(join(own, file)) })
  }
  loaded = assets
  return assets
}
