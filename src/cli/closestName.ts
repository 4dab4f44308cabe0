/** "Did you mean": the known name nearest to a mistyped one, if it is near enough to be the intent. */

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
const distance = (a: string, b: string): number => {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) (rows[0] as Array<number>)[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as Array<number>
    const above = rows[i - 1] as Array<number>
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] as number, ((rows[i - 2] as Array<number>)[j - 2] as number) + 1)
    }
  }
  return (rows[a.length] as Array<number>)[b.length] as number
}

export const closestName = (typed: string, names: ReadonlyArray<string>): string | null => {
  let best: { name: string; d: number } | null = null
  for (const name of names) {
    const d = distance(typed.toLowerCase(), name)
    if (best === null || d < best.d) best = { name, d }
  }
  // One edit in short names, two in longer ones: `stauts` → status, `sesions` → sessions; `xyz` → none.
  return best !== null && best.d <= (best.name.length > 4 ? 2 : 1) ? best.name : null
}
