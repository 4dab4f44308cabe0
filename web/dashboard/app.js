// The dashboard's entry: draws the views from the store on every change (at most once a frame),
// highlights the machines' current states in the server-drawn SVGs, and ticks once a second so ages
// and deadlines move.
import { render } from "preact"
import { html } from "./format.js"
import { Counters, PromptBox, RunDetail, RunsTable } from "./runViews.js"
import { changed, onChange, start, state } from "./store.js"
import { Approvals, EventsTail, Header, Sessions } from "./views.js"

const App = () =>
  state.signedOut
    ? html`<main class="sign-in"><h1>codexd</h1><p>This browser is no longer signed in: run <code>codexd open</code>.</p></main>`
    : html`<${Header} />
        ${state.notice ? html`<p class="notice" data-testid="notice">${state.notice}</p>` : null}
        <${Counters} />
        <div class="columns">
          <div class="main">
            <${PromptBox} />
            <${RunsTable} />
            <${RunDetail} />
          </div>
          <div class="side">
            <${Approvals} />
            <${Sessions} />
            <${EventsTail} />
          </div>
        </div>`

/** The machine state each drawn machine is in now: the child's, and the selected run's. */
const currentStates = () => {
  const run = state.runs.get(state.selectedRunId)
  // A finished run's state is its status; a live one's, the last `run.state` event seen for it.
  const live = run !== undefined && (run.status === "running" || run.status === "queued")
  const runState =
    run === undefined ? "" : live ? (state.runMachine.get(run.runId) ?? run.status) : run.status
  return { childMachine: state.status?.daemon.child.machineState ?? "", runMachine: runState }
}

const highlightMachines = () => {
  for (const [machine, current] of Object.entries(currentStates())) {
    const label = document.querySelector(`[data-machine-state="${machine}"]`)
    if (label !== null) label.textContent = current === "" ? "" : `now: ${current}`
    for (const node of document.querySelectorAll(`svg[data-machine="${machine}"] [data-path]`)) {
      const path = node.getAttribute("data-path") ?? ""
      node.classList.toggle("active", current === path || current.startsWith(`${path}.`))
    }
  }
}

const root = document.getElementById("app")
onChange(() => {
  render(html`<${App} />`, root)
  highlightMachines()
})
setInterval(changed, 1000)
void start()
