/** Ids typed short, as git takes short hashes: any prefix that names exactly one of the known ids. */

export type PrefixMatch = { readonly id: string } | { readonly problem: string }

export const resolveIdPrefix = (given: string, known: ReadonlyArray<string>, what: string): PrefixMatch => {
  if (known.includes(given)) return { id: given }
  const matches = known.filter((id) => id.startsWith(given))
  if (matches.length === 1) return { id: matches[0] as string }
  if (matches.length === 0) return { problem: `no ${what} ${given}` }
  return {
    problem: `${given} names ${matches.length} ${what}s (${matches.slice(0, 3).join(", ")}${matches.length > 3 ? ", ..." : ""}): give more of it`,
  }
}
