// The dashboard's state and its one connection to the daemon: the API (with the session cookie the
// browser sends by itself, and the CSRF token on every change) and the event stream. Events only
// mark what is stale or append to buffers; the page is drawn at most once per animation frame, so a
// burst of thousands of deltas costs one render, not one per delta.

const csrfToken = document.querySelector('meta[name="codexd-csrf"]')?.getAttribute("content") ?? ""
const eventsPath =
  document.querySelector('meta[name="codexd-events"]')?.getAttribute("content") ?? "/v1/events"

/** Events kept for the live tail: older ones fall off, so a long stream cannot grow the page. */
export const TAIL_CAP = 500
/** Characters of a run's streamed answer kept while it streams (the record has the whole answer). */
export const STREAM_CAP = 200_000

export const state = {
  connected: false,
  signedOut: false,
  status: null,
  /** runId -> record, newest first when listed. */
  runs: new Map(),
  sessions: [],
  approvals: [],
  /** runId -> chunks of the answer as it streams, joined when drawn. */
  streamed: new Map(),
  /** runId -> the run machine's state, as its `run.state` events say (`running.awaitingApproval`). */
  runMachine: new Map(),
  events: [],
  lastSeq: 0,
  selectedRunId: null,
  notice: null,
  /** Renders so far: what coalescing per frame saves can be read off against the events seen. */
  renders: 0,
}

let listener = () => {}
let frame = 0
/** Ask for one render in the next animation frame, however many times it is asked before then. */
export const changed = () => {
  if (frame !== 0) return
  frame = requestAnimationFrame(() => {
    frame = 0
    state.renders++
    listener()
  })
}
export const onChange = (render) => {
  listener = render
}

const say = (text) => {
  state.notice = text
  changed()
}

const request = async (method, path, body) => {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: method === "GET" ? {} : { "content-type": "application/json", "x-codexd-csrf": csrfToken },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const json = await res.json().catch(() => ({}))
  if (res.status === 401) state.signedOut = true
  if (!res.ok) throw new Error(json?.error?.message ?? `HTTP ${res.status}`)
  return json
}

/** A change asked from the page; its refusal is shown, never thrown at the caller. */
export const act = async (method, path, body) => {
  try {
    const answer = await request(method, path, body)
    state.notice = null
    changed()
    return answer
  } catch (error) {
    say(error instanceof Error ? error.message : String(error))
    return null
  }
}

/** Forget this browser's session and clear its cookie, then show the page a stranger gets. */
export const signOut = async () => {
  if ((await act("POST", "/dashboard/sign-out")) !== null) location.assign("/")
}

// What the events say is stale, fetched again once per frame at most, one request per kind at a time.
const stale = { status: false, sessions: false, approvals: false, runs: new Set() }
let fetching = false
const refetch = async () => {
  if (fetching) return
  fetching = true
  try {
    while (stale.status || stale.sessions || stale.approvals || stale.runs.size > 0) {
      const jobs = []
      if (stale.status) {
        stale.status = false
        jobs.push(
          request("GET", "/v1/status").then((s) => {
            state.status = s
          }),
        )
      }
      if (stale.sessions) {
        stale.sessions = false
        jobs.push(
          request("GET", "/v1/sessions").then((s) => {
            state.sessions = s.sessions
          }),
        )
      }
      if (stale.approvals) {
        stale.approvals = false
        jobs.push(
          request("GET", "/v1/approvals").then((a) => {
            state.approvals = a.approvals
          }),
        )
      }
      for (const runId of stale.runs) {
        stale.runs.delete(runId)
        jobs.push(
          request("GET", `/v1/runs/${encodeURIComponent(runId)}`).then((r) => {
            state.runs.set(r.runId, r)
            // A finished run's record holds its whole answer: the streamed copy can go.
            if (r.result?.finalMessage != null && r.status !== "running") state.streamed.delete(r.runId)
          }),
        )
      }
      await Promise.allSettled(jobs)
      changed()
      await new Promise((resolve) => requestAnimationFrame(resolve))
    }
  } finally {
    fetching = false
  }
}

const markStale = (event) => {
  const { type, detail } = event
  const runId = typeof detail?.runId === "string" ? detail.runId : null
  if (type.startsWith("child.") || type.startsWith("daemon.") || type.startsWith("transport."))
    stale.status = true
  if (type.startsWith("session.")) stale.sessions = true
  if (type.startsWith("approval.")) stale.approvals = true
  // Deltas change no record until the run ends: they only grow the streamed answer.
  if (runId !== null && type !== "run.message.delta") stale.runs.add(runId)
  if (type === "run.completed" || type === "run.failed" || type === "run.queued") stale.status = true
  // A usage-limit hold starts or ends: the header says until when.
  if (type === "runs.held" || type === "runs.hold.released") stale.status = true
}

const onEvent = (event) => {
  state.lastSeq = event.seq
  if (event.type === "run.message.delta" && typeof event.detail?.runId === "string") {
    const chunks = state.streamed.get(event.detail.runId) ?? []
    chunks.push(String(event.detail.delta ?? ""))
    // Folded into one string now and then, so a 20,000-delta answer is not 20,000 array cells.
    if (chunks.length > 256) chunks.splice(0, chunks.length, chunks.join("").slice(-STREAM_CAP))
    state.streamed.set(event.detail.runId, chunks)
  }
  if (event.type === "run.state" && typeof event.detail?.runId === "string")
    state.runMachine.set(event.detail.runId, String(event.detail.state))
  state.events.push(event)
  if (state.events.length > TAIL_CAP * 2) state.events.splice(0, state.events.length - TAIL_CAP)
  markStale(event)
}

export const streamedText = (runId) => (state.streamed.get(runId) ?? []).join("")

/** The `data:` of each frame in `text`; what is left is an unfinished frame. */
const framesIn = (text) => {
  const frames = text.split("\n\n")
  const rest = frames.pop() ?? ""
  const data = []
  for (const frame of frames) {
    if (frame.startsWith("event: dropped")) say("the event stream fell behind; it is being reopened")
    // Events carry their seq as `id:`; `reset`, `dropped` and heartbeats are not events.
    if (!frame.startsWith("id: ")) continue
    const line = frame.split("\n").find((l) => l.startsWith("data: "))
    if (line !== undefined) data.push(line.slice(6))
  }
  return { data, rest }
}

// The stream is read with fetch rather than EventSource: EventSource hands named events (every
// event here is named by its type) only to a listener of each name, and there is no wildcard.
const follow = async () => {
  for (;;) {
    try {
      const res = await fetch(`${eventsPath}?since=${state.lastSeq}`, { credentials: "same-origin" })
      if (res.status === 401) {
        state.signedOut = true
        changed()
        return
      }
      if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`)
      state.connected = true
      changed()
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffered = ""
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        const { data, rest } = framesIn(buffered + value)
        buffered = rest
        for (const json of data) onEvent(JSON.parse(json))
        if (data.length > 0) {
          changed()
          void refetch()
        }
      }
    } catch {
      // Reopened below, from the last seq seen: nothing is missed across a reconnect.
    }
    state.connected = false
    changed()
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

export const start = async () => {
  try {
    const [status, runs, sessions, approvals] = await Promise.all([
      request("GET", "/v1/status"),
      request("GET", "/v1/runs"),
      request("GET", "/v1/sessions"),
      request("GET", "/v1/approvals"),
    ])
    state.status = status
    for (const run of runs.runs) state.runs.set(run.runId, run)
    state.sessions = sessions.sessions
    state.approvals = approvals.approvals
    state.lastSeq = status.recentEvents.lastSeq
    state.events = status.recentEvents.events.slice(-TAIL_CAP)
  } catch (error) {
    say(error instanceof Error ? error.message : String(error))
  }
  changed()
  void follow()
}

export const select = (runId) => {
  state.selectedRunId = runId
  if (runId !== null) stale.runs.add(runId)
  changed()
  void refetch()
}
