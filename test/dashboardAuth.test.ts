/** The dashboard's sign-in codes, sessions, CSRF checks and sign-out, and the machines it draws. */
import type { IncomingMessage } from "node:http"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { machines } from "../src/machines/registry.ts"
import { serveLocalApi } from "../src/services/api/LocalApi.ts"
import {
  CSRF_HEADER,
  cookieName,
  DashboardAuth,
  MAX_BROWSER_SESSIONS,
  SIGN_IN_CODE_TTL_MS,
} from "../src/services/dashboard/dashboardAuth.ts"
import { DASHBOARD_CSP, dashboardHtml } from "../src/services/dashboard/dashboardPage.ts"
import { dashboardRoutes, SIGN_OUT_PATH } from "../src/services/dashboard/dashboardRoutes.ts"
import { machineSvg } from "../src/services/dashboard/machineSvg.ts"

const HOST = "127.0.0.1:4319"

/** The headers a request brings; nothing else of it is read. */
const request = (headers: Record<string, string>) =>
  ({ headers: { host: HOST, ...headers } }) as IncomingMessage

const signedIn = (auth: DashboardAuth, now = 0) => {
  const session = auth.redeem(auth.issueCode(now), now)
  if (session === null) throw new Error("a fresh code did not redeem")
  return { session, cookie: `${cookieName(HOST)}=${session.id}` }
}

describe("DashboardAuth", () => {
  it("a code signs in once, and not after it expires", () => {
    const auth = new DashboardAuth()
    const code = auth.issueCode(1_000)
    expect(auth.redeem(code, 1_000 + SIGN_IN_CODE_TTL_MS - 1)).not.toBeNull()
    expect(auth.redeem(code, 1_001)).toBeNull()
    const late = auth.issueCode(1_000)
    expect(auth.redeem(late, 1_000 + SIGN_IN_CODE_TTL_MS)).toBeNull()
    expect(auth.redeem("made-up", 1_000)).toBeNull()
  })

  it("the cookie is HttpOnly, SameSite=Strict and named for the port", () => {
    const auth = new DashboardAuth()
    const { session } = signedIn(auth)
    expect(auth.cookieFor(session, HOST)).toBe(
      `codexd_session_4319=${session.id}; Path=/; HttpOnly; SameSite=Strict`,
    )
  })

  it("reads need the cookie; changes need the cookie and the CSRF token, from this origin", () => {
    const auth = new DashboardAuth()
    const { session, cookie } = signedIn(auth)
    expect(auth.check(request({}), "GET")._tag).toBe("None")
    expect(auth.check(request({ cookie: `${cookieName(HOST)}=forged` }), "POST")._tag).toBe("None")
    // Another port's cookie is another daemon's.
    expect(auth.check(request({ cookie: `codexd_session_1=${session.id}` }), "GET")._tag).toBe("None")
    expect(auth.check(request({ cookie }), "GET")._tag).toBe("Session")
    expect(auth.check(request({ cookie }), "POST")._tag).toBe("MissingCsrf")
    expect(auth.check(request({ cookie, [CSRF_HEADER]: "wrong" }), "POST")._tag).toBe("MissingCsrf")
    expect(auth.check(request({ cookie, [CSRF_HEADER]: session.csrfToken }), "POST")._tag).toBe("Session")
    const foreign = { cookie, [CSRF_HEADER]: session.csrfToken, origin: "http://evil.example" }
    expect(auth.check(request(foreign), "POST")._tag).toBe("MissingCsrf")
    const own = { cookie, [CSRF_HEADER]: session.csrfToken, origin: `http://${HOST}` }
    expect(auth.check(request(own), "POST")._tag).toBe("Session")
  })

  it("keeps at most MAX_BROWSER_SESSIONS sessions, dropping the oldest", () => {
    const auth = new DashboardAuth()
    const first = signedIn(auth)
    for (let i = 0; i < MAX_BROWSER_SESSIONS; i++) signedIn(auth)
    expect(auth.sessionOf(request({ cookie: first.cookie }))).toBeNull()
    const last = signedIn(auth)
    expect(auth.sessionOf(request({ cookie: last.cookie }))).toEqual(last.session)
  })

  it("forgets a signed-out session, and only that one; the cleared cookie expires at once", () => {
    const auth = new DashboardAuth()
    const leaving = signedIn(auth)
    const staying = signedIn(auth)
    expect(auth.forget(request({ cookie: leaving.cookie }))).toBe(true)
    expect(auth.sessionOf(request({ cookie: leaving.cookie }))).toBeNull()
    expect(
      auth.check(request({ cookie: leaving.cookie, [CSRF_HEADER]: leaving.session.csrfToken }), "POST")._tag,
    ).toBe("None")
    expect(auth.forget(request({ cookie: leaving.cookie }))).toBe(false)
    expect(auth.sessionOf(request({ cookie: staying.cookie }))).toEqual(staying.session)
    expect(auth.clearedCookie(HOST)).toBe(
      "codexd_session_4319=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
    )
  })
})

describe("the dashboard's routes over HTTP", () => {
  it("sign-out needs the CSRF token, forgets the session, clears the cookie; then / is the sign-in page", async () => {
    const auth = new DashboardAuth()
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { apiBase } = yield* serveLocalApi({
            localApiBase: "http://127.0.0.1:0",
            token: "the-token",
            routes: dashboardRoutes(auth, "/v1/events"),
            browser: auth,
          })
          const host = new URL(apiBase).host
          const session = auth.redeem(auth.issueCode(0), 0)
          if (session === null) throw new Error("a fresh code did not redeem")
          const cookie = `${cookieName(host)}=${session.id}`
          const call = (method: string, path: string, headers: Record<string, string>) =>
            Effect.promise(() => fetch(`${apiBase}${path}`, { method, headers, redirect: "manual" }))

          expect((yield* call("GET", "/", { cookie })).status).toBe(200)
          const withoutCsrf = yield* call("POST", SIGN_OUT_PATH, { cookie })
          expect(withoutCsrf.status).toBe(403)
          expect(yield* Effect.promise(() => withoutCsrf.json())).toMatchObject({ error: { code: "csrf" } })
          expect((yield* call("POST", SIGN_OUT_PATH, {})).status).toBe(401)
          expect((yield* call("GET", "/", { cookie })).status).toBe(200)

          const out = yield* call("POST", SIGN_OUT_PATH, { cookie, [CSRF_HEADER]: session.csrfToken })
          expect(out.status).toBe(204)
          expect(out.headers.get("set-cookie")).toBe(auth.clearedCookie(host))
          const after = yield* call("GET", "/", { cookie })
          expect(after.status).toBe(401)
          expect(yield* Effect.promise(() => after.text())).toContain("codexd open")
          // Signing out again is no change: the CSRF token went with the session.
          expect(
            (yield* call("POST", SIGN_OUT_PATH, { cookie, [CSRF_HEADER]: session.csrfToken })).status,
          ).toBe(401)
        }),
      ),
    )
  })
})

describe("the dashboard page", () => {
  it("draws every state of every machine, addressable by its path", () => {
    for (const [name, machine] of machines) {
      const svg = machineSvg(name, machine)
      const paths = [...svg.matchAll(/data-path="([^"]+)"/g)].map((m) => m[1])
      const walk = (node: typeof machine.root): Array<string> =>
        Object.values(node.states).flatMap((child) => [child.path.join("."), ...walk(child)])
      expect(paths.sort()).toEqual(walk(machine.root).sort())
    }
  })

  it("carries the CSRF token, and its CSP allows this origin's scripts and the import map only", () => {
    const html = dashboardHtml({ csrfToken: "tok&en", eventStreamPath: "/v1/events", machines })
    expect(html).toContain('<meta name="codexd-csrf" content="tok&amp;en">')
    expect(DASHBOARD_CSP).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/)
    expect(DASHBOARD_CSP).toContain("connect-src 'self'")
    expect(html).not.toMatch(/https?:\/\//)
  })
})
