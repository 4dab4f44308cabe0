/** Shared bench helpers: temp dirs, timing, and the side-by-side report every bench prints. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const tempDir = (prefix: string): { path: string; cleanup: () => void } => {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

export const timeAsync = async (body: () => Promise<void>): Promise<number> => {
  const start = performance.now()
  await body()
  return performance.now() - start
}

export interface Measurement {
  readonly label: string
  readonly value: number
  readonly unit: string
}

/** Prints a measurement beside its baseline from the same run, and their ratio. */
export const report = (title: string, subject: Measurement, baseline: Measurement): void => {
  const fmt = (m: Measurement) => `${m.label}: ${m.value.toFixed(m.value < 10 ? 3 : 0)} ${m.unit}`
  process.stdout.write(
    `\n${title}\n  ${fmt(subject)}\n  ${fmt(baseline)}\n  ratio ${subject.label} / ${baseline.label} = ${(subject.value / baseline.value).toFixed(2)}\n`,
  )
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}
