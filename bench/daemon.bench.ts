/**
 * Supervision costs, each beside a baseline from the same run: restart latency (child killed → new
 * child answered initialize) minus the configured backoff, beside the raw spawn→initialize of the same
 * binary; daemon start → ready beside the same raw spawn; `codexd --help` and `status --json` with no
 * daemon, from the bundle and from the sources, beside `node -e 0`.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { foundationLayer } from "../src/daemon.ts"
import { Supervisor } from "../src/services/supervisor/Supervisor.ts"
import { codexdBin } from "../test/support/cli.ts"
import { makeCodexHome } from "../test/support/codexHome.ts"
import { startDaemonProcess } from "../test/support/daemonProcess.ts"
import { fakeAppServerPath } from "../test/support/fakePeer.ts"
import { codexBinary } from "../test/support/realCodex.ts"
import { childStateOf, waitUntil } from "../test/support/supervisorHarness.ts"
import { configFor } from "../test/support/tempConfig.ts"
import { rawInitializeMs } from "./appServerClient.bench.ts"
import { median, report, tempDir } from "./harness.ts"

const ROUNDS = 5
const BACKOFF_MS = 100

const restartLatencies = async (env: Record<string, string>): Promise<Array<number>> => {
  const dir = tempDir("codexd-bench-restart-")
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    const config = configFor(dir.path, { childCommand: codexBinary() })
    return await Effect.runPromise(
      Effect.gen(function* () {
        const supervisor = yield* Supervisor
        yield* supervisor.start
        const settled = yield* supervisor.settled
        if (settled !== "running")
          throw new Error(`the child did not start: ${childStateOf(supervisor).lastError}`)
        const latencies: Array<number> = []
        for (let i = 0; i < ROUNDS; i++) {
          const pid = childStateOf(supervisor).pid
          if (pid === null) throw new Error("no child pid")
          const start = performance.now()
          process.kill(pid, "SIGKILL")
          yield* Effect.promise(() =>
            waitUntil(
              () => childStateOf(supervisor).status === "running" && childStateOf(supervisor).pid !== pid,
              30_000,
            ),
          )
          latencies.push(performance.now() - start - BACKOFF_MS)
        }
        yield* supervisor.stop
        return latencies
      }).pipe(
        Effect.provide(
          Supervisor.layer({ backoffDelayMs: () => BACKOFF_MS, maxRestarts: 100 }).pipe(
            Layer.provideMerge(foundationLayer(config)),
          ),
        ),
      ),
    )
  } finally {
    process.env = saved
    dir.cleanup()
  }
}

const daemonReadyMs = async (env: Record<string, string>): Promise<number> => {
  const dir = tempDir("codexd-bench-start-")
  try {
    const start = performance.now()
    const daemon = startDaemonProcess([], env, dir.path)
    await daemon.waitForOutput(/codexd ready/)
    const elapsed = performance.now() - start
    await daemon.stop()
    return elapsed
  } finally {
    dir.cleanup()
  }
}

const wallMs = (
  command: string,
  args: ReadonlyArray<string>,
  cwd: string,
  env: Record<string, string> = {},
): number => {
  const start = performance.now()
  try {
    execFileSync(command, args, { cwd, stdio: "ignore", env: { ...process.env, ...env } })
  } catch {
    // `status` exits 3 with no daemon; the time is what counts.
  }
  return performance.now() - start
}

export const daemonBench = async (): Promise<void> => {
  const home = makeCodexHome("http://127.0.0.1:9/v1")
  try {
    const raw: Array<number> = []
    for (let i = 0; i < ROUNDS; i++) raw.push(await rawInitializeMs(home.env))
    const restart = await restartLatencies(home.env)
    report(
      `Supervisor: restart latency minus the ${BACKOFF_MS} ms backoff (median of ${ROUNDS})`,
      { label: "child killed → new child ready", value: median(restart), unit: "ms" },
      { label: "raw spawn → initialize", value: median(raw), unit: "ms" },
    )
    const ready: Array<number> = []
    for (let i = 0; i < 3; i++) ready.push(await daemonReadyMs(home.env))
    report(
      "codexd start → ready line (median of 3)",
      { label: "codexd start", value: median(ready), unit: "ms" },
      { label: "raw spawn → initialize", value: median(raw), unit: "ms" },
    )
  } finally {
    home.cleanup()
  }
  const dir = tempDir("codexd-bench-status-")
  try {
    const bare: Array<number> = []
    for (let i = 0; i < ROUNDS; i++) bare.push(wallMs(process.execPath, ["-e", "0"], dir.path))
    // The bundle (as `npm ci` leaves it) and the sources, for the light commands people run most.
    for (const [source, env] of [
      ["bundle", {}],
      ["sources", { CODEXD_FROM_SOURCE: "1" }],
    ] as const) {
      for (const args of [["--help"], ["status", "--json"]]) {
        const times: Array<number> = []
        for (let i = 0; i < ROUNDS; i++)
          times.push(wallMs(process.execPath, [codexdBin, ...args], dir.path, env))
        report(
          `codexd ${args.join(" ")} wall time, no daemon, from the ${source} (median of ${ROUNDS})`,
          { label: `codexd ${args.join(" ")}`, value: median(times), unit: "ms" },
          { label: "node -e 0", value: median(bare), unit: "ms" },
        )
      }
    }
    // With a daemon running (the fake app-server): the commands that ask its API.
    writeFileSync(join(dir.path, "script.json"), JSON.stringify({ simulate: true }))
    const daemon = startDaemonProcess(
      [],
      {
        CODEXD_CHILD_COMMAND: process.execPath,
        CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", dir.path]),
      },
      dir.path,
    )
    try {
      await daemon.waitForOutput(/codexd ready/, 60_000)
      for (const args of [
        ["status", "--json"],
        ["runs", "--json"],
      ]) {
        const times: Array<number> = []
        for (let i = 0; i < ROUNDS; i++) times.push(wallMs(process.execPath, [codexdBin, ...args], dir.path))
        report(
          `codexd ${args.join(" ")} wall time, daemon running, from the bundle (median of ${ROUNDS})`,
          { label: `codexd ${args.join(" ")}`, value: median(times), unit: "ms" },
          { label: "node -e 0", value: median(bare), unit: "ms" },
        )
      }
    } finally {
      await daemon.stop()
    }
  } finally {
    dir.cleanup()
  }
}
