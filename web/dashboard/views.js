// The header (daemon and child, codex's rate limits, the tokens used, restart, sign out), the approvals inbox, the sessions and the live event tail.
import { useState } from "preact/hooks"
import { age, clip, count, Diff, html, short, until, windowLength } from "./format.js"
import { act, signOut, state } from "./store.js"

/** One rate-limit window: its length, how much of it is used, and when it resets (codex's epoch seconds). */
const RateWindow = ({ name, window }) => {
  const resets =
    typeof window.resetsAt === "number"
      ? html`<span class="muted">, resets in ${until(new Date(window.resetsAt * 1000).toISOString())}</span>`
      : null
  const used = Math.round(window.usedPercent)
  // On one line: htm drops whitespace that holds a newline, and the words need their spaces.
  return html`<span class="limit" data-window=${name}>${windowLength(window.windowDurationMins)} <meter min="0" max="100" low="70" high="90" optimum="0" value=${window.usedPercent}></meter> <b>${used}%</b> used${resets}</span>`
}

/** codex's rate-limit windows for the account, as the daemon last heard them; `-` before it has. */
const RateLimits = ({ limits }) => {
  const windows = ["primary", "secondary"].filter((name) => typeof limits?.[name]?.usedPercent === "number")
  if (windows.length === 0) return html`<span class="muted">-</span>`
  return html`${windows.map((name, i) => html`${i > 0 ? " · " : ""}<${RateWindow} name=${name} window=${limits[name]} />`)}${
    limits.planType ? html` <span class="muted">(${limits.planType})</span>` : null
  }`
}

export const Header = () => {
  const status = state.status
  if (status === null) return html`<header class="panel"><h1>codexd</h1></header>`
  const { daemon, identity } = status
  const child = daemon.child
  return html`<header class="panel header">
    <h1>codexd <span class=${`dot ${state.connected ? "live" : "down"}`} title=${state.connected ? "live" : "reconnecting"}></span></h1>
    <dl>
      <dt>daemon</dt><dd>pid ${daemon.pid ?? "-"} · up ${age(daemon.startedAt)}</dd>
      <dt>child</dt>
      <dd data-testid="child-state">
        <span class=${`status ${child.status}`}>${child.status}</span> pid ${child.pid ?? "-"} · up ${age(child.startedAt)} ·
        restarts ${child.restartCount} · <code data-testid="child-machine">${child.machineState}</code>
      </dd>
      <dt>api</dt><dd><code>${daemon.apiBase ?? "-"}</code></dd>
      <dt>node</dt><dd>${identity.nodeId}</dd>
      <dt>codex</dt><dd>${child.userAgent ?? "-"}</dd>
      <dt>limits</dt><dd data-testid="rate-limits"><${RateLimits} limits=${daemon.rateLimits} /></dd>
      <dt>tokens</dt><dd data-testid="usage"><b>${count(status.usage.tokens)}</b> <span class="muted">over the runs kept</span></dd>
      ${
        daemon.usageHold
          ? html`<dt>held</dt><dd class="error" data-testid="usage-hold">queued runs wait for the usage limit to reset, in ${until(daemon.usageHold.until)} <span class="muted">(${daemon.usageHold.reason})</span></dd>`
          : null
      }
      ${child.lastError ? html`<dt>last error</dt><dd class="error">${child.lastError}</dd>` : null}
    </dl>
    <div class="actions">
      <button onClick=${() => act("POST", "/v1/child/restart")}>Restart child</button>
      <button onClick=${signOut}>Sign out</button>
    </div>
  </header>`
}

const Approval = ({ approval }) => {
  const pending = approval.status === "pending"
  return html`<li class=${`approval ${approval.status}`} data-approval=${approval.approvalId}>
    <div>
      <b>${approval.kind}</b> for run <code>${short(approval.runId)}</code>
      ${pending ? html` · <span class="muted">${until(approval.deadlineAt)} left</span>` : html` · ${approval.status} ${approval.decision ?? ""}`}
    </div>
    ${approval.command ? html`<code class="cmd">$ ${approval.command}</code>` : null}
    ${approval.cwd ? html`<div class="muted">in ${approval.cwd}</div>` : null}
    ${approval.reason ? html`<div>${approval.reason}</div>` : null}
    ${approval.diff ? html`<${Diff} text=${approval.diff} />` : null}
    ${
      pending
        ? html`<div class="row">${approval.availableDecisions.map(
            (decision) => html`<button
              data-decision=${decision}
              onClick=${() => act("POST", `/v1/approvals/${encodeURIComponent(approval.approvalId)}`, { decision })}
            >${decision}</button>`,
          )}</div>`
        : null
    }
  </li>`
}

export const Approvals = () => {
  const pending = state.approvals.filter((a) => a.status === "pending")
  const settled = state.approvals
    .filter((a) => a.status !== "pending")
    .slice(-20)
    .reverse()
  return html`<section class="panel">
    <h2>Approvals <span class="badge" data-testid="pending-approvals">${pending.length}</span></h2>
    ${pending.length === 0 ? html`<p class="muted">Nothing waits for an answer.</p>` : null}
    <ul class="approvals">${pending.map((a) => html`<${Approval} key=${a.approvalId} approval=${a} />`)}</ul>
    ${
      settled.length > 0
        ? html`<details><summary>answered (${settled.length})</summary>
            <ul class="approvals">${settled.map((a) => html`<${Approval} key=${a.approvalId} approval=${a} />`)}</ul></details>`
        : null
    }
  </section>`
}

const NewSession = () => {
  const [model, setModel] = useState("")
  const [sandbox, setSandbox] = useState("")
  const [approvals, setApprovals] = useState("")
  const create = (event) => {
    event.preventDefault()
    void act("POST", "/v1/sessions", {
      ...(model ? { model } : {}),
      ...(sandbox ? { sandbox } : {}),
      ...(approvals ? { approvals } : {}),
    })
  }
  return html`<form class="row" onSubmit=${create}>
    <input name="model" placeholder="model (default)" value=${model} onInput=${(e) => setModel(e.currentTarget.value)} />
    <select name="sandbox" value=${sandbox} onChange=${(e) => setSandbox(e.currentTarget.value)}>
      <option value="">sandbox (default)</option>
      <option>read-only</option><option>workspace-write</option><option>danger-full-access</option>
    </select>
    <select name="approvals" value=${approvals} onChange=${(e) => setApprovals(e.currentTarget.value)}>
      <option value="">approvals (default)</option>
      <option>ask</option><option>auto-accept</option><option>auto-decline</option>
    </select>
    <button type="submit">New session</button>
  </form>`
}

export const Sessions = () => {
  const tokens = state.status?.usage.sessions ?? {}
  return html`<section class="panel">
    <h2>Sessions</h2>
    <${NewSession} />
    <table>
      <thead><tr><th>session</th><th>thread</th><th>model</th><th>sandbox</th><th>approvals</th><th>last turn</th><th>tokens</th><th></th></tr></thead>
      <tbody>
        ${[...state.sessions]
          .reverse()
          .slice(0, 50)
          .map(
            (s) => html`<tr key=${s.sessionId} class=${s.status}>
            <td><code>${short(s.sessionId)}</code> <span class="muted">${s.purpose}</span></td>
            <td><code>${clip(s.threadId ?? "-", 14)}</code></td>
            <td>${s.model ?? "-"}</td>
            <td>${s.sandbox ?? "-"}</td>
            <td>${s.approvals}</td>
            <td>${s.lastTurnStatus ?? "-"}</td>
            <td data-testid="session-tokens">${tokens[s.sessionId] === undefined ? "-" : count(tokens[s.sessionId])}</td>
            <td>${s.status === "active" ? html`<button onClick=${() => act("POST", `/v1/sessions/${s.sessionId}/close`)}>Close</button>` : "closed"}</td>
          </tr>`,
          )}
      </tbody>
    </table>
  </section>`
}

/** Lines of the tail drawn at once: the newest, after the filters. */
const TAIL_SHOWN = 200

export const EventsTail = () => {
  const [level, setLevel] = useState("")
  const [type, setType] = useState("")
  const [run, setRun] = useState("")
  const shown = []
  for (let i = state.events.length - 1; i >= 0 && shown.length < TAIL_SHOWN; i--) {
    const e = state.events[i]
    if (level !== "" && e.level !== level) continue
    if (type !== "" && !e.type.startsWith(type)) continue
    if (run !== "" && !String(e.detail?.runId ?? "").includes(run)) continue
    shown.push(e)
  }
  return html`<section class="panel">
    <h2>Events</h2>
    <div class="row">
      <select name="level" value=${level} onChange=${(e) => setLevel(e.currentTarget.value)}>
        <option value="">every level</option><option>info</option><option>warn</option><option>error</option>
      </select>
      <input name="type" placeholder="type prefix (run., approval.)" value=${type} onInput=${(e) => setType(e.currentTarget.value)} />
      <input name="run" placeholder="run id" value=${run} onInput=${(e) => setRun(e.currentTarget.value)} />
    </div>
    <ol class="events" data-testid="events">
      ${shown.map(
        (e) => html`<li key=${e.seq} class=${e.level}>
          <span class="muted">${e.seq}</span> <b>${e.type}</b> ${clip(e.message, 120)}
        </li>`,
      )}
    </ol>
  </section>`
}
