/**
 * What a person should do about a smoke turn that failed, from the error codex reported. Codex names
 * the kind of failure in `codexErrorInfo` (a string such as `"unauthorized"`, or an object such as
 * `{ httpConnectionFailed: { httpStatusCode } }`); the message text is only shown, never parsed.
 */
import type { RecentEvent } from "../../domain/event.ts"

const LOGIN_HINT =
  "codex is not logged in, or the model API refused its credentials: run `codex login` (or " +
  "`codex login --with-api-key` reading OPENAI_API_KEY) with the same CODEX_HOME the daemon's child uses"

const UNREACHABLE_HINT =
  "codex could not reach the model: check the network and proxy, or the model provider's base_url in " +
  "$CODEX_HOME/config.toml"

/** The variants of `codexErrorInfo` that mean the model API was never reached or dropped the stream. */
const connectionVariants = new Set([
  "httpConnectionFailed",
  "responseStreamConnectionFailed",
  "responseStreamDisconnected",
  "responseTooManyFailedAttempts",
])

const httpStatusOf = (info: unknown): number | null => {
  if (typeof info !== "object" || info === null) return null
  for (const value of Object.values(info)) {
    const status = (value as { httpStatusCode?: unknown } | null)?.httpStatusCode
    if (typeof status === "number") return status
  }
  return null
}

/**
 * For a turn still going when the smoke gives up: what codex last reported while retrying (it
 * reconnects to a model it cannot reach, say, with `Reconnecting... 3/5`), with its hint; "" if nothing.
 */
export const retryNote = (events: ReadonlyArray<RecentEvent>, runId: string): string => {
  const error = events.findLast((e) => e.type === "run.error" && e.detail?.runId === runId)
  if (error === undefined) return ""
  const hint = turnFailureHint(
    (error.detail?.error as { codexErrorInfo?: unknown } | undefined)?.codexErrorInfo,
  )
  return `; codex kept retrying: ${error.message}${hint === null ? "" : `; ${hint}`}`
}

export const turnFailureHint = (codexErrorInfo: unknown): string | null => {
  const status = httpStatusOf(codexErrorInfo)
  if (codexErrorInfo === "unauthorized" || status === 401 || status === 403) return LOGIN_HINT
  if (codexErrorInfo === "modelNotFound")
    return "the configured model does not exist for this account: set `model` in $CODEX_HOME/config.toml"
  if (codexErrorInfo === "usageLimitExceeded" || codexErrorInfo === "rateLimitExceeded")
    return "the model API refused for quota or rate limits: check the account's plan and usage"
  const variant =
    typeof codexErrorInfo === "object" && codexErrorInfo !== null ? Object.keys(codexErrorInfo)[0] : undefined
  if (variant === undefined || !connectionVariants.has(variant)) return null
  if (status === null) return UNREACHABLE_HINT
  return status >= 500 ? `the model API answered HTTP ${status}: it may be down; try again later` : null
}
