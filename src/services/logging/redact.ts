/**
 * Secret redaction for everything that reaches a file (logs, events, run records): API keys, bearer
 * tokens, Authorization headers, values under keys that name a secret, `NAME=value` assignments whose
 * name says key, secret, token or password, and the values of the daemon's own secret-looking
 * environment variables wherever they appear (a run of `env` prints them). The same rules for all.
 */

const SECRET_KEY = /(^|[_-])(authorization|token|api[_-]?key|apikey|secret|password|passwd|cookie)$/i
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g
const KEY_LIKE = /\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}/g

/** `OPENAI_API_KEY=...`, `db_password=...`: an assignment whose name says it holds a secret. */
const SECRET_ASSIGNMENT =
  /\b([A-Za-z_][A-Za-z0-9_]*(?:KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)[A-Za-z0-9_]*)=([^\s"'`]+)/gi
const SECRET_ENV_NAME = /(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL)/i
/** Shorter values are too likely to be words (`true`, `1`) to be replaced wherever they appear. */
const MIN_ENV_SECRET_LENGTH = 8

export const REDACTED = "[redacted]"

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const envSecretsPattern = (env: Readonly<Record<string, string | undefined>>): RegExp | null => {
  const values = Object.entries(env)
    .filter(([name, value]) => SECRET_ENV_NAME.test(name) && (value ?? "").length >= MIN_ENV_SECRET_LENGTH)
    .map(([, value]) => value as string)
    // Longest first, so a secret that contains another is replaced whole.
    .sort((a, b) => b.length - a.length)
  return values.length === 0 ? null : new RegExp(values.map(escapeRegExp).join("|"), "g")
}

let envSecrets = envSecretsPattern(process.env)

/** The last text redacted: an event's message is often also in its detail (a delta is in both). */
let lastText = ""
let lastRedacted = ""

/** Read the secret-looking environment variables again (the daemon does at start; tests after setting one). */
export const refreshEnvSecrets = (env: Readonly<Record<string, string | undefined>> = process.env): void => {
  envSecrets = envSecretsPattern(env)
  lastText = ""
  lastRedacted = ""
}

export const redactText = (text: string): string => {
  if (text === lastText) return lastRedacted
  const out = redactUncached(text)
  lastText = text
  lastRedacted = out
  return out
}

const redactUncached = (text: string): string => {
  // Cheap tests first: most texts (a delta, a path) hold none of what the patterns look for.
  let out = envSecrets === null ? text : text.replace(envSecrets, REDACTED)
  if (out.includes("Bearer") || out.includes("Basic"))
    out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
  if (out.includes("k-")) out = out.replace(KEY_LIKE, REDACTED)
  if (out.includes("=")) out = out.replace(SECRET_ASSIGNMENT, (_m, name: string) => `${name}=${REDACTED}`)
  return out
}

/**
 * Whether a key names a secret, remembered: the keys of codex's messages are a small set seen over and
 * over, and the pattern ran for every key of every event. Bounded, for keys that come from user data.
 */
const secretKeys = new Map<string, boolean>()
const SECRET_KEYS_REMEMBERED = 4_096
const isSecretKey = (key: string): boolean => {
  let secret = secretKeys.get(key)
  if (secret === undefined) {
    secret = SECRET_KEY.test(key)
    if (secretKeys.size >= SECRET_KEYS_REMEMBERED) secretKeys.clear()
    secretKeys.set(key, secret)
  }
  return secret
}

const redactKeyValue = (key: string, value: unknown, depth: number): unknown =>
  value !== null && value !== undefined && typeof value !== "object" && isSecretKey(key)
    ? REDACTED
    : redactSecrets(value, depth)

/**
 * `value` with secrets replaced. The input is never modified: what holds a secret is copied, and
 * what holds none comes back as the same object, so the common case (an event with nothing to hide)
 * allocates nothing.
 */
export const redactSecrets = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return redactText(value)
  if (value === null || typeof value !== "object" || depth > 32) return value
  if (Array.isArray(value)) {
    let copy: Array<unknown> | null = null
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const redacted = redactSecrets(item, depth + 1)
      if (redacted !== item && copy === null) copy = value.slice(0, i)
      copy?.push(redacted)
    }
    return copy ?? value
  }
  if (depth > 31) return value
  const record = value as Record<string, unknown>
  let copy: Record<string, unknown> | null = null
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue
    const item = record[key]
    const redacted = redactKeyValue(key, item, depth + 1)
    if (redacted !== item && copy === null) copy = { ...record }
    if (copy !== null) copy[key] = redacted
  }
  return copy ?? value
}
