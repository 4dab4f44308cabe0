/**
 * `npm run bench`: every benchmark, each printed beside a baseline measured in the same run.
 * `npm run bench -- store` runs only the benches whose name contains "store"; `npm run bench -- soak`
 * runs the memory soak, which is not part of the default set.
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { appServerClientBench } from "./appServerClient.bench.ts"
import { clusterBench } from "./cluster.bench.ts"
import { daemonBench } from "./daemon.bench.ts"
import { eventLogBench } from "./eventLog.bench.ts"
import { execBench } from "./exec.bench.ts"
import { relayBench } from "./relay.bench.ts"
import { runsBench } from "./runs.bench.ts"
import { soakBench } from "./soak.bench.ts"
import { storeBench } from "./store.bench.ts"

const benches: ReadonlyArray<[string, () => Promise<void>]> = [
  ["store", storeBench],
  ["eventlog", eventLogBench],
  ["client", appServerClientBench],
  ["daemon", daemonBench],
  ["runs", runsBench],
  ["relay", relayBench],
  ["exec", execBench],
  ["cluster", clusterBench],
]

/** Asked for by name only: they take minutes. */
const onRequest: ReadonlyArray<[string, () => Promise<void>]> = [["soak", soakBench]]

// The benches that start `codexd` run what users run: the bundle, built from these sources first.
execFileSync(process.execPath, [join(import.meta.dirname, "..", "scripts", "build.ts")], { stdio: "inherit" })

const filter = process.argv[2]?.toLowerCase()
for (const [name, bench] of benches) {
  if (filter === undefined || name.includes(filter)) await bench()
}
for (const [name, bench] of onRequest) {
  if (filter !== undefined && name.includes(filter)) await bench()
}
