/**
 * Whether codex can reach its model: asked of the app-server (`account/read`). Logged in means an
 * account (ChatGPT or an API key codex stored), or a provider that needs no OpenAI sign-in (its own
 * key variable), or OPENAI_API_KEY in the environment the child inherits. Otherwise every turn would
 * fail after retries; people are told at once, with what to run.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { AppServerClient } from "./AppServerClient.ts"

export const CodexLogin = Schema.Struct({
  loggedIn: Schema.Boolean,
  /** How: "account" (codex login), "provider" (a configured provider with its own key), "env". */
  how: Schema.NullOr(Schema.Literals(["account", "provider", "env"])),
  /** What to do when not logged in. */
  hint: Schema.NullOr(Schema.String),
})
export type CodexLogin = typeof CodexLogin.Type

export const NOT_LOGGED_IN_HINT =
  "codex is not logged in: run `npx codex login` (or give the daemon OPENAI_API_KEY); turns fail until it is"

const AccountAnswer = Schema.Struct({
  account: Schema.NullOr(Schema.Unknown),
  requiresOpenaiAuth: Schema.Boolean,
})

export const readCodexLogin = (
  client: AppServerClient,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Effect.Effect<CodexLogin, unknown> =>
  Effect.flatMap(client.request("account/read", {}), (raw) =>
    Effect.map(Schema.decodeUnknownEffect(AccountAnswer)(raw), (answer): CodexLogin => {
      if (answer.account !== null) return { loggedIn: true, how: "account", hint: null }
      if (!answer.requiresOpenaiAuth) return { loggedIn: true, how: "provider", hint: null }
      if ((env.OPENAI_API_KEY ?? "") !== "") return { loggedIn: true, how: "env", hint: null }
      return { loggedIn: false, how: null, hint: NOT_LOGGED_IN_HINT }
    }),
  )
