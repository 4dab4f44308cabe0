/**
 * The API's bearer token: generated at the first start into the token file (mode 0600, created
 * exclusively so two starts cannot both write one), read by the daemon and by the CLI. The file is
 * read without following a symlink: a link planted in the state directory could point the daemon at
 * a token someone else chose (or makes it leak one into a file someone else reads); the daemon
 * replaces such a link with a token file of its own.
 */
import { randomBytes } from "node:crypto"
import {
  chmodSync,
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { dirname } from "node:path"

const readToken = (path: string): string | null => {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch {
    return null
  }
  try {
    const token = readFileSync(fd, "utf8").trim()
    return token === "" ? null : token
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}

const isSymlink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/** The token in `path`, created when there is none yet. */
export const ensureApiToken = (path: string): string => {
  if (isSymlink(path)) rmSync(path, { force: true })
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
