/**
 * `npm run demo`: a full tour of codexd with the real bundled codex and no account. A loopback mock
 * of the model API plays the model; codex, codexd and every command are the real ones. Everything
 * lives in a temporary directory that is removed at the end.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeCodexHome } from "../test/support/codexHome.ts"
import { startMockResponsesApi } from "../test/support/mockResponsesApi.ts"

const codexd = join(import.meta.dirname, "..", "bin", "codexd.js")
const project = mkdtempSync(join(tmpdir(), "codexd-demo-"))
writeFileSync(join(project, "README.md"), "# a demo project\n")
writeFileSync(join(project, "hello.py"), 'print("hello")\n')

const model = await startMockResponsesApi()
const home = makeCodexHome(`${model.baseUrl}/v1`)
// A free port, so the demo never meets a daemon you already run on the default one.
const env = { ...process.env, ...home.env, CODEXD_API_BASE: "http://127.0.0.1:0" }

const say = (text: string) => process.stdout.write(`\n\x1b[2m# ${text}\x1b[0m\n`)
/** Runs one codexd command, its output shown as is. Not spawnSync: the model mock lives in this process. */
const run = (...args: Array<string>): Promise<number> => {
  const shown = args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")
  process.stdout.write(`\x1b[1m$ codexd ${shown}\x1b[0m\n`)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [codexd, ...args], { cwd: project, env, stdio: "inherit" })
    child.on("exit", (code) => resolve(code ?? 1))
    child.on("error", () => resolve(1))
  })
}

let failed = false
try {
  say(`a project in ${project}; codex talks to a model mock on ${model.baseUrl}`)
  say("start the daemon in the background: it supervises `codex app-server` and serves the local API")
  if ((await run("start", "--detach")) !== 0) throw new Error("the daemon did not start")
  await run("status")

  say("run a prompt: a new session (a codex thread), one turn, the answer streamed as it arrives")
  model.enqueue({
    kind: "text",
    deltas: ["Hello ", "from ", "codex, ", "running ", "under ", "codexd, ", "offline."],
    delayMs: 120,
  })
  if ((await run("run", "Say hello")) !== 0) failed = true

  say("a turn that runs a command; --approvals auto-accept lets codex run it without asking")
  model.enqueue(
    { kind: "exec", cmd: "ls" },
    { kind: "text", deltas: ["This project has a README and hello.py."] },
  )
  if ((await run("run", "What files are here?", "--approvals", "auto-accept")) !== 0) failed = true

  say("what was recorded: sessions, runs, and the event log")
  await run("sessions")
  await run("runs")
  await run("events")

  say("check everything end to end")
  if ((await run("smoke")) !== 0) failed = true
} catch (error) {
  failed = true
  process.stderr.write(`demo: ${(error as Error).message}\n`)
} finally {
  say("stop the daemon")
  await run("stop")
  await model.close()
  home.cleanup()
  rmSync(project, { recursive: true, force: true })
}
process.stdout.write(failed ? "\ndemo: something failed (see above)\n" : "\ndemo: done\n")
process.exit(failed ? 1 : 0)
