// The runs: counters, the prompt box, a paginated table, and one run's detail with its answer as it
// streams, its plan, commands, file changes and diff, tokens and error; interrupt and steer.
import { useState } from "preact/hooks"
import { age, clip, Diff, html, short, tokensOf } from "./format.js"
import { act, select, state, streamedText } from "./store.js"

export const PAGE_SIZE = 25

const newestFirst = () => [...state.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt))

export const Counters = () => {
  const counts = { queued: 0, running: 0, completed: 0, failed: 0 }
  for (const run of state.runs.values()) counts[run.status] = (counts[run.status] ?? 0) + 1
  return html`<div class="counters">
    <span class="count queued" data-testid="count-queued"><b>${counts.queued}</b> queued</span>
    <span class="count running" data-testid="count-running"><b>${counts.running}</b> running</span>
    <span class="count finished" data-testid="count-finished"
      ><b>${counts.completed + counts.failed}</b> finished (${counts.completed} completed, ${counts.failed} failed)</span
    >
  </div>`
}

export const PromptBox = () => {
  const [prompt, setPrompt] = useState("")
  const [sessionId, setSessionId] = useState("")
  const active = state.sessions.filter((s) => s.status === "active")
  const submit = async (event) => {
    event.preventDefault()
    if (prompt.trim() === "") return
    const run = await act("POST", "/v1/runs", { prompt, ...(sessionId === "" ? {} : { sessionId }) })
    if (run === null) return
    state.runs.set(run.runId, run)
    setPrompt("")
    select(run.runId)
  }
  return html`<form class="panel prompt" onSubmit=${submit}>
    <textarea
      name="prompt"
      rows="3"
      placeholder="a prompt for codex"
      value=${prompt}
      onInput=${(e) => setPrompt(e.currentTarget.value)}
    ></textarea>
    <div class="row">
      <select name="session" value=${sessionId} onChange=${(e) => setSessionId(e.currentTarget.value)}>
        <option value="">a new session</option>
        ${active.map((s) => html`<option value=${s.sessionId}>${short(s.sessionId)} ${s.purpose} ${s.model ?? ""}</option>`)}
      </select>
      <button type="submit">Run</button>
    </div>
  </form>`
}

export const RunsTable = () => {
  const [page, setPage] = useState(0)
  const runs = newestFirst()
  const pages = Math.max(1, Math.ceil(runs.length / PAGE_SIZE))
  const shown = Math.min(page, pages - 1)
  const rows = runs.slice(shown * PAGE_SIZE, (shown + 1) * PAGE_SIZE)
  return html`<section class="panel">
    <h2>Runs</h2>
    <table class="runs">
      <thead><tr><th>run</th><th>session</th><th>status</th><th>age</th><th>summary</th><th>tokens</th></tr></thead>
      <tbody>
        ${rows.map(
          (run) => html`<tr
            key=${run.runId}
            data-run=${run.runId}
            class=${run.runId === state.selectedRunId ? "selected" : ""}
            onClick=${() => select(run.runId)}
          >
            <td><code>${short(run.runId)}</code></td>
            <td><code>${short(run.sessionId)}</code></td>
            <td><span class=${`status ${run.status}`}>${run.status}</span></td>
            <td>${age(run.createdAt)}</td>
            <td>${clip(run.summary ?? run.prompt)}</td>
            <td>${tokensOf(run) ?? "-"}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div class="pager">
      <button disabled=${shown === 0} onClick=${() => setPage(shown - 1)}>‹ newer</button>
      <span>page ${shown + 1} of ${pages} (${runs.length} runs)</span>
      <button disabled=${shown >= pages - 1} onClick=${() => setPage(shown + 1)}>older ›</button>
    </div>
  </section>`
}

const Commands = ({ commands }) =>
  commands.length === 0
    ? null
    : html`<h3>Commands</h3>
        ${commands.map(
          (c) => html`<div class="command">
            <code>$ ${c.command}</code>
            <span class=${c.exitCode === 0 ? "ok" : "bad"}> exit ${c.exitCode ?? "-"}</span>
            ${c.outputTail ? html`<pre>${c.outputTail}</pre>` : null}
          </div>`,
        )}`

const Steer = ({ run }) => {
  const [text, setText] = useState("")
  const steer = async (event) => {
    event.preventDefault()
    if (text.trim() === "") return
    if ((await act("POST", `/v1/runs/${run.runId}/steer`, { text })) !== null) setText("")
  }
  return html`<form class="row" onSubmit=${steer}>
    <button type="button" onClick=${() => act("POST", `/v1/runs/${run.runId}/interrupt`)}>Interrupt</button>
    <input name="steer" placeholder="steer: add to the turn" value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
    <button type="submit">Steer</button>
  </form>`
}

export const RunDetail = () => {
  const run = state.runs.get(state.selectedRunId)
  if (run === undefined)
    return html`<section class="panel detail"><p class="muted">Select a run to see it.</p></section>`
  const result = run.result
  const live = run.status === "running" || run.status === "queued"
  const answer = live ? streamedText(run.runId) : (result?.finalMessage ?? streamedText(run.runId))
  const tokens = tokensOf(run)
  return html`<section class="panel detail" data-testid="run-detail" data-status=${run.status}>
    <h2>Run <code>${run.runId}</code> <span class=${`status ${run.status}`} data-testid="run-status">${run.status}</span></h2>
    <p class="muted">session <code>${run.sessionId ?? "-"}</code> · created ${age(run.createdAt)} ago${
      run.finishedAt ? ` · took ${age(run.startedAt ?? run.createdAt, run.finishedAt)}` : ""
    }</p>
    <p class="prompt-text">${run.prompt}</p>
    ${live ? html`<${Steer} run=${run} />` : null}
    ${run.error ? html`<p class="error" data-testid="run-error">${run.errorCode}: ${run.error}</p>` : null}
    <h3>Answer</h3>
    <pre class="answer" data-testid="run-answer">${answer}</pre>
    ${
      result?.plan?.length
        ? html`<h3>Plan</h3><ol class="plan" data-testid="run-plan">${result.plan.map((p) => html`<li class=${p.status}>${p.step} <span class="muted">${p.status}</span></li>`)}</ol>`
        : null
    }
    ${result ? html`<${Commands} commands=${result.commands} />` : null}
    ${
      result?.fileChanges?.length
        ? html`<h3>File changes</h3><ul data-testid="run-files">${result.fileChanges.map(
            (f) => html`<li><code>${f.path}</code> <span class="muted">${f.kind?.type ?? ""}</span></li>`,
          )}</ul>`
        : null
    }
    ${result?.diff ? html`<div data-testid="run-diff"><h3>Diff</h3><${Diff} text=${result.diff} /></div>` : null}
    ${tokens !== null ? html`<p>tokens: <b>${tokens}</b></p>` : null}
  </section>`
}
