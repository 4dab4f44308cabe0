/**
 * `npm run bench`: every benchmark, each printed beside a baseline measured in the same run.
 * `npm run bench -- store` runs only the benches whose name contains "store".
 */
import { appServerClientBench } from "./appServerClient.bench.ts"
import { daemonBench } from "./daemon.bench.ts"
import { eventLogBench } from "./eventLog.bench.ts"
import { execBench } from "./exec.bench.ts"
import { relayBench } from "./relay.bench.ts"
import { runsBench } from "./runs.bench.ts"
import { storeBench } from "./store.bench.ts"

const benches: ReadonlyArray<[string, () => Promise<void>]> = [
  ["store", storeBench],
  ["eventlog", eventLogBench],
  ["client", appServerClientBench],
  ["daemon", daemonBench],
  ["runs", runsBench],
  ["relay", relayBench],
  ["exec", execBench],
]

const filter = process.argv[2]?.toLowerCase()
for (const [name, bench] of benches) {
  if (filter === undefined || name.includes(filter)) await bench()
}
