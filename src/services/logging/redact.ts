/**
 * Secret redaction for everything that reaches a log file: API keys, bearer tokens, Authorization
 * headers and values under keys that name a secret. Pure, so both the daemon log and the event log
 * apply the same rules.
 */

const SECRET_KEY = /(^|[_-])(authorization|token|api[_-]?key|apikey|secret|password|passwd|cookie)$/i
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g
const KEY_LIKE = /\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}/g

export const REDACTED = "[redacted]"

export const redactText = (text: string): string =>
  text.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`).replace(KEY_LIKE, REDACTED)

const redactKeyValue = (key: string, value: unknown): unknown =>
  SECRET_KEY.test(key) && value !== null && value !== undefined && typeof value !== "object"
    ? REDACTED
    : redactSecrets(value)

/** A copy of `value` with secrets replaced; values without secrets come back as they were. */
export const redactSecrets = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return redactText(value)
  if (value === null || typeof value !== "object" || depth > 32) return value
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = depth > 31 ? item : redactKeyValue(key, item)
  return out
}
