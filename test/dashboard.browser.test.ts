/**
 * The dashboard in a real headless Chromium against a real daemon supervising the fake peer: sign-in
 * through `codexd open --print`'s one-time URL, a run submitted from the page streaming its answer, an
 * approval answered from the page, a run's plan and highlighted diff, the rate limits and tokens in
 * the header, the child restarted from the page, refusals without the cookie or the CSRF token (while
 * the bearer token keeps working), signing out, and a run of 20,000 deltas.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Browser, launchBrowser } from "./support/browser.ts"
import { runCodexd } from "./support/cli.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temp = makeTempDir("codexd-dashboard-")
const shots = mkdtempSync(join(tmpdir(), "codexd-dashboard-shots-"))
const env = {
  CODEXD_CHILD_COMMAND: process.execPath,
  CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", temp.path]),
  CODEXD_APPROVALS: "ask",
}
const codexd = (...args: Array<string>) => runCodexd(args, { cwd: temp.path, env })

/** What the fake peer answers `account/rateLimits/read` with (codex's shape; resets in epoch seconds). */
const nowSeconds = Math.floor(Date.now() / 1000)
const rateLimitsRead = {
  rateLimits: {
    limitId: "codex",
    limitName: null,
    primary: { usedPercent: 42, windowDurationMins: 300, resetsAt: nowSeconds + 3_600 },
    secondary: { usedPercent: 7, windowDurationMins: 10_080, resetsAt: nowSeconds + 6 * 86_400 },
    credits: null,
    planType: "plus",
  },
}

let daemon: DaemonProcess
let browser: Browser
let apiBase = ""
let token = ""

// biome-ignore lint/suspicious/noExplicitAny: the answers are the API's records, read field by field
type Answer = { readonly status: number; readonly json: any }

const api = async (
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> => {
  const res = await fetch(`${apiBase}${path}`, {
    method,
    headers: { "content-type": "application/json", ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  return { status: res.status, json: await res.json().catch(() => null) }
}
const bearer = () => ({ authorization: `Bearer ${token}` })

/** A one-time sign-in URL, as `codexd open --print` prints it. */
const signInUrl = async () => {
  const opened = await codexd("open", "--print")
  expect(opened.exitCode, opened.stderr).toBe(0)
  const url = opened.stdout.trim()
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard\/sign-in\?code=[\w-]{20,}$/)
  return url
}

const signedInPage = async (): Promise<Page> => {
  const page = await browser.context.newPage()
  await page.goto(await signInUrl())
  await page.getByRole("button", { name: "Restart child" }).waitFor()
  return page
}

const submitFromPage = async (page: Page, prompt: string) => {
  await page.locator('textarea[name="prompt"]').fill(prompt)
  await page.getByRole("button", { name: "Run", exact: true }).click()
  const detail = page.getByTestId("run-detail")
  await detail.locator("h2 code").waitFor()
  return (await detail.locator("h2 code").textContent()) as string
}

const finalMessage = async (runId: string) => {
  const run = await api("GET", `/v1/runs/${runId}`, { headers: bearer() })
  return run.json.result?.finalMessage as string
}

beforeAll(async () => {
  // codex-like, and with the rate-limit windows of a ChatGPT account.
  writeFileSync(
    join(temp.path, "script.json"),
    JSON.stringify({
      simulate: true,
      requests: { "account/rateLimits/read": [{ respond: rateLimitsRead }] },
    }),
  )
  daemon = startDaemonProcess([], env, temp.path)
  const ready = await daemon.waitForOutput(/api http:\/\/\S+/)
  apiBase = (/http:\/\/\S+/.exec(ready) as RegExpExecArray)[0]
  token = readFileSync(join(temp.path, ".codexd", "state", "api-token"), "utf8").trim()
  browser = await launchBrowser()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await daemon?.stop()
  temp.cleanup()
  // Kept when there are pictures to look at (the README's come from here), else removed.
  if (readdirSync(shots).length === 0) rmSync(shots, { recursive: true, force: true })
  else console.info(`dashboard screenshots: ${shots}`)
})

describe("the dashboard in Chromium", () => {
  it("without a session shows only how to sign in; the one-time URL signs in once, with an HttpOnly SameSite=Strict cookie", async () => {
    const page = await browser.context.newPage()
    const stranger = await page.goto(`${apiBase}/`)
    expect(stranger?.status()).toBe(401)
    await expect(page.locator("body").textContent()).resolves.toContain("codexd open")
    expect(await page.locator("#app").count()).toBe(0)

    const url = await signInUrl()
    await page.goto(url)
    expect(new URL(page.url()).pathname).toBe("/")
    await page.getByRole("button", { name: "Restart child" }).waitFor()
    const [cookie] = (await browser.context.cookies(apiBase)).filter((c) =>
      c.name.startsWith("codexd_session_"),
    )
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" })
    // The page's scripts cannot read it.
    expect(await page.evaluate("document.cookie")).not.toContain("codexd_session_")
    await expect(page.getByTestId("child-state").textContent()).resolves.toContain("running")

    const again = await page.goto(url)
    expect(again?.status()).toBe(403)
    await expect(page.locator("body").textContent()).resolves.toContain("already used or has expired")
    await page.close()
  })

  it("a run submitted from the page streams its answer and shows completed with its final message", async () => {
    const page = await signedInPage()
    // 30 deltas at 20 a second: the answer is seen growing while the run still runs.
    const runId = await submitFromPage(page, "stamped 30 20")
    const detail = page.getByTestId("run-detail")
    const seen = async () => ({
      status: await detail.getAttribute("data-status"),
      streaming: ((await detail.getByTestId("run-answer").textContent()) ?? "") !== "",
    })
    await expect.poll(seen, { timeout: 20_000, interval: 20 }).toEqual({ status: "running", streaming: true })
    await page.locator('[data-testid="run-detail"][data-status="completed"]').waitFor({ timeout: 20_000 })
    const final = await finalMessage(runId)
    expect(final.trim().split(" ")).toHaveLength(30)
    await expect(detail.getByTestId("run-answer").textContent()).resolves.toBe(final)
    await expect(page.locator(`tr[data-run="${runId}"]`).textContent()).resolves.toContain("completed")
    await page.close()
  })

  it("an approval appears, is answered from the page, and the run completes", async () => {
    const page = await signedInPage()
    const runId = await submitFromPage(page, "approve touch dashboard.txt")
    const pending = page.locator("li.approval.pending")
    await pending.waitFor({ timeout: 20_000 })
    await expect(pending.locator("code.cmd").textContent()).resolves.toBe("$ touch dashboard.txt")
    // The decisions codex offers, each a button.
    expect(await pending.locator("button[data-decision]").count()).toBeGreaterThan(0)
    // The machines drawn on the page show where the child and the selected run are.
    const runState = page.locator('svg[data-machine="runMachine"] [data-path="running.awaitingApproval"]')
    await expect.poll(() => runState.getAttribute("class")).toContain("active")
    const childState = page.locator('svg[data-machine="childMachine"] [data-path="alive.running"]')
    await expect.poll(() => childState.getAttribute("class")).toContain("active")
    // The README's pictures: Chromium's PNGs at a device scale factor of 1, clipped to what they show
    // (here: down to the run's detail, pictured on its own below).
    const detailTop = (await page.getByTestId("run-detail").boundingBox())?.y ?? 640
    await page.screenshot({
      path: join(shots, "dashboard.png"),
      clip: { x: 0, y: 0, width: 1280, height: detailTop - 4 },
    })
    await pending.locator('button[data-decision="accept"]').click()
    await page.locator('[data-testid="run-detail"][data-status="completed"]').waitFor({ timeout: 20_000 })
    await expect(page.getByTestId("run-answer").textContent()).resolves.toBe("ran touch dashboard.txt")
    await expect(page.getByTestId("pending-approvals").textContent()).resolves.toBe("0")
    const approvals = await api("GET", "/v1/approvals", { headers: bearer() })
    expect(approvals.json.approvals.find((a: { runId: string }) => a.runId === runId)).toMatchObject({
      status: "answered",
      decision: "accept",
    })
    await page.close()
  })

  it("a run that edits a file shows its plan, its file change and its diff, added and removed lines styled", async () => {
    const page = await signedInPage()
    const runId = await submitFromPage(page, "patch notes.txt")
    const detail = page.locator('[data-testid="run-detail"][data-status="completed"]')
    await detail.waitFor({ timeout: 20_000 })
    const record = (await api("GET", `/v1/runs/${runId}`, { headers: bearer() })).json
    expect(record.result.plan).toHaveLength(3)

    // The plan as codex last told it, each step with its status.
    const steps = detail.getByTestId("run-plan").locator("li")
    expect(await steps.allTextContents()).toEqual(
      record.result.plan.map((p: { step: string; status: string }) => `${p.step} ${p.status}`),
    )
    expect(await steps.evaluateAll((lis) => lis.map((li) => li.className))).toEqual([
      "completed",
      "completed",
      "inProgress",
    ])
    await expect(detail.getByTestId("run-files").textContent()).resolves.toMatch(/^notes\.txt\s+update$/)

    // The turn's unified diff, line by line, each kind of line styled as such.
    const diff = detail.getByTestId("run-diff").locator("pre.diff")
    const lines = await diff
      .locator("span")
      .evaluateAll((spans) =>
        spans.map((span) => [
          span.className,
          span.textContent?.trimEnd(),
          span.ownerDocument.defaultView?.getComputedStyle(span).backgroundColor,
        ]),
      )
    expect(lines.map(([kind, text]) => [kind, text])).toEqual([
      ["d-file", "diff --git a/notes.txt b/notes.txt"],
      ["d-file", "--- a/notes.txt"],
      ["d-file", "+++ b/notes.txt"],
      ["d-hunk", "@@ -1,2 +1,2 @@"],
      ["d-del", "-hello"],
      ["d-add", "+hello, patched"],
      ["", " world"],
      ["", ""],
    ])
    const background = Object.fromEntries(lines.map(([kind, , colour]) => [kind, colour]))
    expect(background["d-add"]).toBe("rgb(220, 252, 231)")
    expect(background["d-del"]).toBe("rgb(254, 226, 226)")
    expect(background[""]).toBe("rgba(0, 0, 0, 0)")
    expect(await diff.textContent()).toBe(`${record.result.diff}\n`)

    // Its tokens: in the detail, in its session's row, and in the header's total.
    await expect(detail.locator("p", { hasText: "tokens:" }).textContent()).resolves.toBe("tokens: 321")
    const status = (await api("GET", "/v1/status", { headers: bearer() })).json
    expect(status.usage.sessions[record.sessionId]).toBe(321)
    const sessionRow = page.locator("tr", { hasText: record.sessionId.slice(8, 16) })
    await expect.poll(() => sessionRow.getByTestId("session-tokens").textContent()).toBe("321")
    await expect
      .poll(async () => (await page.getByTestId("usage").textContent())?.replace(/\s+/g, " "))
      .toBe(`${status.usage.tokens.toLocaleString("en")} over the runs kept`)
    expect(status.usage.tokens).toBeGreaterThanOrEqual(321)
    // The README's picture of a run: from its plan to its diff (measured at the page's top, where
    // the viewport's coordinates are the page's).
    await page.evaluate("window.scrollTo(0, 0)")
    const panel = (await detail.boundingBox()) as { x: number; y: number; width: number }
    const from = (await detail.locator("h3", { hasText: "Plan" }).boundingBox())?.y ?? panel.y
    const to = (await detail.getByTestId("run-diff").boundingBox()) as { y: number; height: number }
    const clip = { x: panel.x, y: from - 8, width: panel.width, height: to.y + to.height - from + 16 }
    await page.screenshot({ path: join(shots, "run-detail.png"), clip, fullPage: true })
    await page.close()
  })

  it("the header shows codex's rate-limit windows: used, of how long, reset when", async () => {
    const page = await signedInPage()
    const limits = page.getByTestId("rate-limits")
    const text = async () => ((await limits.textContent()) ?? "").replace(/\s+/g, " ").trim()
    await expect.poll(text, { timeout: 20_000 }).toContain("42% used")
    expect(await text()).toMatch(
      /^5h 42% used, resets in (59m \d+s|1h 0m) · 7d 7% used, resets in 5d 23h \(plus\)$/,
    )
    expect(await limits.locator('[data-window="primary"] meter').getAttribute("value")).toBe("42")
    expect(await limits.locator('[data-window="secondary"] meter').getAttribute("value")).toBe("7")
    // What the daemon keeps, as the API says.
    const status = (await api("GET", "/v1/status", { headers: bearer() })).json
    const { primary, secondary, planType } = rateLimitsRead.rateLimits
    expect(status.daemon.rateLimits).toMatchObject({ primary, secondary, planType })

    // codex's update of a window, while the page is open: the header follows without a reload, the
    // window it did not mention stays as it was.
    await submitFromPage(page, "limits 55")
    await expect.poll(text, { timeout: 20_000 }).toContain("55% used")
    expect(await text()).toMatch(
      /^5h 55% used, resets in (29m \d+s|30m 0s) · 7d 7% used, resets in 5d 23h \(plus\)$/,
    )
    // Told as an event (the recent-events cache the status carries is saved now and then: polled).
    const lastTold = async () =>
      (await api("GET", "/v1/status", { headers: bearer() })).json.recentEvents.events
        .filter((e: { type: string }) => e.type === "daemon.rateLimits.updated")
        .at(-1)
    await expect
      .poll(async () => (await lastTold())?.message)
      .toBe("rate limits: primary 55% used, secondary 7% used")
    expect(await lastTold()).toMatchObject({
      detail: { rateLimits: { primary: { usedPercent: 55 }, secondary: { usedPercent: 7 } } },
    })
    await page.close()
  })

  it("starts a session from the page, runs in it, steers the running turn, and closes the session", async () => {
    const page = await signedInPage()
    const known = new Set(
      (
        (await api("GET", "/v1/sessions", { headers: bearer() })).json.sessions as Array<{
          sessionId: string
        }>
      ).map((s) => s.sessionId),
    )
    await page.locator('select[name="sandbox"]').selectOption("read-only")
    await page.getByRole("button", { name: "New session" }).click()
    let created: { sessionId: string; sandbox: string | null } | undefined
    await expect
      .poll(async () => {
        const sessions = (await api("GET", "/v1/sessions", { headers: bearer() })).json.sessions
        created = sessions.find((s: { sessionId: string }) => !known.has(s.sessionId))
        return created?.sandbox
      })
      .toBe("read-only")
    const sessionId = (created as { sessionId: string }).sessionId
    const choice = page.locator(`select[name="session"] option[value="${sessionId}"]`)
    await choice.waitFor({ state: "attached" })
    await page.locator('select[name="session"]').selectOption(sessionId)
    const runId = await submitFromPage(page, "hang")
    const detail = page.getByTestId("run-detail")
    await page.locator('[data-testid="run-detail"][data-status="running"]').waitFor({ timeout: 20_000 })
    await detail.locator('input[name="steer"]').fill("go on")
    await detail.getByRole("button", { name: "Steer" }).click()
    await page.locator('[data-testid="run-detail"][data-status="completed"]').waitFor({ timeout: 20_000 })
    await expect(detail.getByTestId("run-answer").textContent()).resolves.toBe("steered: go on")
    expect((await api("GET", `/v1/runs/${runId}`, { headers: bearer() })).json.sessionId).toBe(sessionId)
    await page
      .locator("tr", { hasText: sessionId.slice("session_".length, "session_".length + 8) })
      .getByRole("button", { name: "Close" })
      .click()
    await expect
      .poll(async () => (await api("GET", `/v1/sessions/${sessionId}`, { headers: bearer() })).json.status)
      .toBe("closed")
    await page.close()
  })

  it("restarts the child from the page", async () => {
    const before = (await api("GET", "/v1/status", { headers: bearer() })).json.daemon.child
    const page = await signedInPage()
    await page.getByRole("button", { name: "Restart child" }).click()
    const childState = page.getByTestId("child-state")
    await expect
      .poll(async () => (await childState.textContent()) ?? "", { timeout: 30_000 })
      .toMatch(new RegExp(`running pid (?!${before.pid} )\\d+ `))
    const after = (await api("GET", "/v1/status", { headers: bearer() })).json.daemon.child
    expect(after.pid).not.toBe(before.pid)
    expect(after.status).toBe("running")
    await page.close()
  })

  it("refuses changes without the cookie or without the CSRF token; the bearer token works as before", async () => {
    const page = await signedInPage()
    const [cookie] = (await browser.context.cookies(apiBase)).filter((c) =>
      c.name.startsWith("codexd_session_"),
    )
    const session = `${cookie?.name}=${cookie?.value}`
    const csrf = (await page.locator('meta[name="codexd-csrf"]').getAttribute("content")) as string

    // From the page itself: its own fetch without the header is refused, with it accepted.
    const fromPage = await page.evaluate(async (token) => {
      const post = (headers: Record<string, string>) =>
        fetch("/v1/sessions", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: "{}",
        })
      return [(await post({})).status, (await post({ "x-codexd-csrf": token })).status]
    }, csrf)
    expect(fromPage).toEqual([403, 201])

    const body = { prompt: "refused" }
    expect((await api("POST", "/v1/runs", { body })).status).toBe(401)
    expect((await api("POST", "/v1/runs", { body, headers: { cookie: session } })).status).toBe(403)
    const wrong = await api("POST", "/v1/runs", { body, headers: { cookie: session, "x-codexd-csrf": "x" } })
    expect(wrong).toMatchObject({ status: 403, json: { error: { code: "csrf" } } })
    const foreign = { cookie: session, "x-codexd-csrf": csrf, origin: "http://evil.example" }
    expect((await api("POST", "/v1/runs", { body, headers: foreign })).status).toBe(403)
    expect((await api("GET", "/v1/status", { headers: { cookie: "codexd_session_1=forged" } })).status).toBe(
      401,
    )
    // Reads need only the cookie (the event stream and the page's fetches send it by themselves).
    expect((await api("GET", "/v1/sessions", { headers: { cookie: session } })).status).toBe(200)

    expect((await api("GET", "/v1/status", { headers: bearer() })).status).toBe(200)
    expect((await api("POST", "/v1/runs", { body: { prompt: "by token" }, headers: bearer() })).status).toBe(
      202,
    )
    // A program's sign-in link needs the token.
    expect((await api("POST", "/v1/dashboard/sign-in-links")).status).toBe(401)
    await page.close()
  })

  it("signs out: the session is forgotten, the cookie cleared, and / shows how to sign in", async () => {
    const page = await signedInPage()
    const cookieOf = async () =>
      (await browser.context.cookies(apiBase)).find((c) => c.name.startsWith("codexd_session_"))
    const cookie = `${(await cookieOf())?.name}=${(await cookieOf())?.value}`
    // Like every change, a sign-out without the page's CSRF token is refused, and signs no one out.
    const forged = await api("POST", "/dashboard/sign-out", { headers: { cookie } })
    expect(forged).toMatchObject({ status: 403, json: { error: { code: "csrf" } } })
    expect((await api("GET", "/v1/status", { headers: { cookie } })).status).toBe(200)

    const signInPage = page.waitForResponse((res) => new URL(res.url()).pathname === "/")
    await page.getByRole("button", { name: "Sign out" }).click()
    expect((await signInPage).status()).toBe(401)
    await page.getByText("This dashboard needs a sign-in link").waitFor()
    await expect(page.locator("body").textContent()).resolves.toContain("codexd open")
    expect(await cookieOf()).toBeUndefined()
    // The old cookie, replayed, opens nothing now.
    expect((await api("GET", "/v1/status", { headers: { cookie } })).status).toBe(401)
    const reload = await page.goto(`${apiBase}/`)
    expect(reload?.status()).toBe(401)
    await page.close()
  })

  it("keeps up with a run of 20,000 deltas: the whole answer shown, the event tail capped", async () => {
    const page = await signedInPage()
    const pageState = () =>
      page.evaluate<{ kept: number; cap: number; lastSeq: number; renders: number }>(
        `import("/dashboard/assets/store.js").then(({ state, TAIL_CAP }) =>
          ({ kept: state.events.length, cap: TAIL_CAP, lastSeq: state.lastSeq, renders: state.renders }))`,
      )
    const rendersBefore = (await pageState()).renders
    const runId = await submitFromPage(page, "deltas 20000")
    await page.locator('[data-testid="run-detail"][data-status="completed"]').waitFor({ timeout: 120_000 })
    const final = await finalMessage(runId)
    expect(final).toHaveLength(20_000)
    await expect(page.getByTestId("run-answer").textContent()).resolves.toBe(final)
    // The page still answers, and draws a bounded tail however many events it was sent.
    expect(await page.getByTestId("events").locator("li").count()).toBeLessThanOrEqual(200)
    // Every event the daemon had sent by the end reaches the page.
    const sent = (await api("GET", "/v1/status", { headers: bearer() })).json.recentEvents.lastSeq
    const until = Date.now() + 20_000
    while ((await pageState()).lastSeq < sent && Date.now() < until) await page.waitForTimeout(50)
    const shown = await pageState()
    expect(shown.lastSeq).toBeGreaterThanOrEqual(sent)
    expect(shown.kept).toBeLessThanOrEqual(shown.cap * 2)
    // Drawn once per animation frame, not once per delta.
    const renders = shown.renders - rendersBefore
    console.info(`20,000 deltas drawn in ${renders} renders`)
    expect(renders).toBeLessThan(5_000)
    await page.close()
  }, 180_000)

  it("codexd open without a daemon says so and exits 3", async () => {
    const elsewhere = makeTempDir("codexd-dashboard-none-")
    try {
      const opened = await runCodexd(["open", "--print"], { cwd: elsewhere.path })
      expect(opened.exitCode).toBe(3)
      expect(opened.stdout).toBe("")
      expect(opened.stderr).toMatch(
        /^codexd open: no daemon is running on .*; start one with `codexd start`$/,
      )
    } finally {
      elsewhere.cleanup()
    }
  })

  it("pages through 1,000 runs in the registry, 25 at a time", async () => {
    const before = (await api("GET", "/v1/runs", { headers: bearer() })).json.runs.length
    const submit = async (i: number) => {
      const answer = await api("POST", "/v1/runs", { body: { prompt: `bulk ${i}` }, headers: bearer() })
      expect(answer.status).toBe(202)
    }
    for (let i = 0; i < 1000; i += 25) await Promise.all(Array.from({ length: 25 }, (_, j) => submit(i + j)))
    const total = before + 1000
    const page = await signedInPage()
    await expect
      .poll(() => page.locator(".pager span").textContent(), { timeout: 30_000 })
      .toBe(`page 1 of ${Math.ceil(total / 25)} (${total} runs)`)
    expect(await page.locator("table.runs tbody tr").count()).toBe(25)
    // Submitted 25 at a time: a page holds one batch, newest first.
    const numbers = async () =>
      (await page.locator("table.runs tbody tr").allTextContents()).map((row) =>
        Number(/bulk (\d+)/.exec(row)?.[1]),
      )
    expect(Math.min(...(await numbers()))).toBe(975)
    await page.getByRole("button", { name: "older ›" }).click()
    await expect(page.locator(".pager span").textContent()).resolves.toContain("page 2 of")
    expect(Math.min(...(await numbers()))).toBe(950)
    expect(Math.max(...(await numbers()))).toBe(974)
    await page.close()
  }, 180_000)

  // Last: the hold keeps this daemon's queued runs waiting for half an hour.
  it("shows a usage-limit hold in the header: queued runs wait until the window resets", async () => {
    const page = await signedInPage()
    await submitFromPage(page, "limits 100")
    await expect
      .poll(async () => (await page.getByTestId("rate-limits").textContent()) ?? "", { timeout: 20_000 })
      .toContain("100% used")
    await submitFromPage(page, "fail usage")
    const hold = page.getByTestId("usage-hold")
    await hold.waitFor({ timeout: 30_000 })
    expect(((await hold.textContent()) ?? "").replace(/\s+/g, " ")).toMatch(
      /^queued runs wait for the usage limit to reset, in (29m \d+s|30m 0s) \(.+\)$/,
    )
    const status = (await api("GET", "/v1/status", { headers: bearer() })).json
    expect(Date.parse(status.daemon.usageHold.until)).toBeGreaterThan(Date.now() + 25 * 60_000)
    // A run submitted now waits, queued, rather than failing.
    const queued = await api("POST", "/v1/runs", { body: { prompt: "after the limit" }, headers: bearer() })
    expect(queued.status).toBe(202)
    await new Promise((r) => setTimeout(r, 1_000))
    const run = await api("GET", `/v1/runs/${queued.json.runId}`, { headers: bearer() })
    expect(run.json.status).toBe("queued")
    await page.close()
  })
})
