/**
 * Who may use the dashboard: one-time sign-in codes (issued to a holder of the API token, through
 * `codexd open`), and the browser sessions they are exchanged for. A session is a random id in an
 * `HttpOnly; SameSite=Strict` cookie (page scripts cannot read it, other sites cannot make the browser
 * send it) and a CSRF token the page carries and sends back as a header on every state-changing
 * request. The API token itself never reaches the browser.
 *
 * Held in memory only: a restarted daemon forgets its sessions and codes, and `codexd open` signs in
 * again. Time comes in as an argument (the route handlers read it from Effect's Clock).
 */
import { randomBytes, timingSafeEqual } from "node:crypto"
import type { IncomingMessage } from "node:http"

/** How long a sign-in URL can be used, once. */
export const SIGN_IN_CODE_TTL_MS = 120_000
/** Sessions kept at once; the oldest goes first past it (each `codexd open` makes one). */
export const MAX_BROWSER_SESSIONS = 64
export const CSRF_HEADER = "x-codexd-csrf"
/** Scripts cannot read the cookie, and other sites cannot make the browser send it. */
const COOKIE_ATTRIBUTES = "Path=/; HttpOnly; SameSite=Strict"

export interface BrowserSession {
  readonly id: string
  readonly csrfToken: string
}

/** What a request shows of a browser session: none, one, or one whose change lacks its CSRF token. */
export type BrowserCheck =
  | { readonly _tag: "None" }
  | { readonly _tag: "Session"; readonly session: BrowserSession }
  | { readonly _tag: "MissingCsrf" }

const secret = () => randomBytes(32).toString("base64url")

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The cookie's name carries the port: browsers share cookies across the ports of one host. */
export const cookieName = (host: string | undefined): string => {
  const port = /:(\d+)$/.exec(host ?? "")?.[1] ?? "0"
  return `codexd_session_${port}`
}

const cookieValue = (req: IncomingMessage, name: string): string | undefined => {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=")
    if (key === name) return rest.join("=")
  }
  return undefined
}

/** A change is any method but GET/HEAD: those are what a CSRF token guards. */
const changesState = (method: string) => method !== "GET" && method !== "HEAD"

export class DashboardAuth {
  private readonly codes = new Map<string, number>()
  private readonly sessions = new Map<string, BrowserSession>()

  /** A code good for one sign-in within SIGN_IN_CODE_TTL_MS of `now`. */
  issueCode(now: number): string {
    for (const [code, expiresAt] of this.codes) if (expiresAt <= now) this.codes.delete(code)
    const code = secret()
    this.codes.set(code, now + SIGN_IN_CODE_TTL_MS)
    return code
  }

  /** Exchange a code for a new session; null when it is unknown, used or expired. */
  redeem(code: string, now: number): BrowserSession | null {
    const expiresAt = this.codes.get(code)
    this.codes.delete(code)
    if (expiresAt === undefined || expiresAt <= now) return null
    const session = { id: secret(), csrfToken: secret() }
    this.sessions.set(session.id, session)
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= MAX_BROWSER_SESSIONS) break
      this.sessions.delete(oldest)
    }
    return session
  }

  /** The session a request's cookie names, if it is one of ours. */
  sessionOf(req: IncomingMessage): BrowserSession | null {
    const id = cookieValue(req, cookieName(req.headers.host))
    if (id === undefined) return null
    for (const session of this.sessions.values()) if (sameSecret(id, session.id)) return session
    return null
  }

  /**
   * A request's browser credentials: a change needs the session's CSRF token in its header, and, when
   * the browser names the page it came from (`Origin`), that page must be this API's own.
   */
  check(req: IncomingMessage, method: string): BrowserCheck {
    const session = this.sessionOf(req)
    if (session === null) return { _tag: "None" }
    if (!changesState(method)) return { _tag: "Session", session }
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return { _tag: "MissingCsrf" }
    const given = req.headers[CSRF_HEADER]
    return typeof given === "string" && sameSecret(given, session.csrfToken)
      ? { _tag: "Session", session }
      : { _tag: "MissingCsrf" }
  }

  /** Forget the session a request's cookie names (signing out); false when it named none of ours. */
  forget(req: IncomingMessage): boolean {
    const session = this.sessionOf(req)
    return session !== null && this.sessions.delete(session.id)
  }

  /** The `Set-Cookie` value that signs a browser in. */
  cookieFor(session: BrowserSession, host: string | undefined): string {
    return `${cookieName(host)}=${session.id}; ${COOKIE_ATTRIBUTES}`
  }

  /** The `Set-Cookie` value that makes a browser drop its cookie (it expires at once). */
  clearedCookie(host: string | undefined): string {
    return `${cookieName(host)}=; ${COOKIE_ATTRIBUTES}; Max-Age=0`
  }
}
