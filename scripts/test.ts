/**
 * `npm test`: bundle, type-check, lint, then the vitest suite, ending with one plain line
 * `N passed, N failed` that counts every test plus the bundle, the type-check and the lint as one
 * check each.
 * Extra arguments go to vitest (`npm test -- test/store.test.ts`).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const bin = (name: string): string => join(import.meta.dirname, "..", "node_modules", ".bin", name)

const step = (label: string, command: string, args: ReadonlyArray<string>): boolean => {
  process.stdout.write(`\n== ${label}\n`)
  const result = spawnSync(command, args, { stdio: "inherit" })
  return result.status === 0
}

let passed = 0
let failed = 0
const count = (ok: boolean): void => {
  if (ok) passed += 1
  else failed += 1
}

// The bundle first: the CLI tests run what `npx codexd` runs, built from these sources.
count(step("bundle (scripts/build.ts)", process.execPath, [join(import.meta.dirname, "build.ts")]))
count(step("type-check (tsc --noEmit)", bin("tsc"), ["--noEmit"]))
count(step("lint and format (biome check)", bin("biome"), ["check", "."]))

const reportDir = mkdtempSync(join(tmpdir(), "codexd-test-report-"))
const reportPath = join(reportDir, "vitest.json")
const vitestOk = step("tests (vitest)", bin("vitest"), [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${reportPath}`,
  ...process.argv.slice(2),
])
try {
  const report = JSON.parse(readFileSync(reportPath, "utf8")) as {
    numPassedTests: number
    numFailedTests: number
    testResults: ReadonlyArray<{ status: string; assertionResults: ReadonlyArray<unknown> }>
  }
  passed += report.numPassedTests
  // A file that fails before any test runs (an import error) counts as one failure.
  const brokenFiles = report.testResults.filter(
    (f) => f.status === "failed" && f.assertionResults.length === 0,
  )
  failed += report.numFailedTests + brokenFiles.length
} catch {
  // No report means vitest itself failed before running anything.
  failed += 1
}
if (!vitestOk && failed === 0) failed += 1
rmSync(reportDir, { recursive: true, force: true })

process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exitCode = failed === 0 ? 0 : 1
