/**
 * The API's bearer token: generated at the first start into the token file (mode 0600, created
 * exclusively so two starts cannot both write one), read by the daemon and by the CLI.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

const readToken = (path: string): string | null => {
  try {
    const token = readFileSync(path, "utf8").trim()
    return token === "" ? null : token
  } catch {
    return null
  }
}

/** The token in `path`, created when there is none yet. */
export const ensureApiToken = (path: string): string => {
  const existing = readToken(path)
  if (existing !== null) {
    // A token file others can read is a token others have: tighten it.
    chmodSync(path, 0o600)
    return existing
  }
  mkdirSync(dirname(path), { recursive: true })
  const token = randomBytes(32).toString("base64url")
  try {
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" })
    return token
  } catch {
    // Someone else wrote it first (or an empty file was there): theirs wins if readable.
    const raced = readToken(path)
    if (raced !== null) return raced
    writeFileSync(path, `${token}\n`, { mode: 0o600 })
    chmodSync(path, 0o600)
    return token
  }
}

export { readToken as readApiToken }
