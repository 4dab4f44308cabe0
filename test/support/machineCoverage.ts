/**
 * Coverage for model-based tests: every transition a machine defines, which of them a path through
 * the machine takes, and a small set of paths that together take all of them.
 */
import type { AnyStateNode } from "xstate"

export interface Step<Snapshot extends { readonly value: unknown }> {
  readonly state: Snapshot
  readonly event: { readonly type: string }
}

export interface DefinedTransition {
  readonly key: string
  readonly node: AnyStateNode
  readonly eventType: string
  readonly target: string | null
}

/** A state value as a dotted path (`running.reconciling.grace`). */
export const flat = (value: unknown): string =>
  typeof value === "string"
    ? value
    : Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => `${k}.${flat(v)}`)
        .join(",")

/** Every event-driven transition of the machine (eventless `always` ones are not steps of a path). */
export const definedTransitions = (root: AnyStateNode): Array<DefinedTransition> => {
  const out: Array<DefinedTransition> = []
  const walk = (node: AnyStateNode) => {
    for (const [eventType, transitions] of node.transitions) {
      for (const [i, t] of transitions.entries()) {
        const target = t.target?.[0] ? t.target[0].path.join(".") : null
        out.push({
          key: `${node.path.join(".") || "(root)"} --${eventType}[${i}]--> ${target ?? "(self)"}`,
          node,
          eventType,
          target,
        })
      }
    }
    for (const child of Object.values(node.states) as Array<AnyStateNode>) walk(child)
  }
  walk(root)
  return out
}

/**
 * The transition a step takes: its event from the previous state, landing where it landed. A target
 * left at once by an eventless transition (a transient state) counts as reached when the step lands
 * anywhere, since the machine never rests there.
 */
const coveredBy = <S extends { readonly value: unknown }>(
  defined: ReadonlyArray<DefinedTransition>,
  previous: S,
  step: Step<S>,
  transient: ReadonlySet<string>,
): Array<string> => {
  const from = flat(previous.value)
  const to = flat(step.state.value)
  const applicable = defined.filter((d) => {
    const nodePath = d.node.path.join(".")
    const within = nodePath === "" || from === nodePath || from.startsWith(`${nodePath}.`)
    return within && d.eventType === step.event.type
  })
  const exact = applicable.filter((d) =>
    d.target === null ? from === to : to === d.target || to.startsWith(`${d.target}.`),
  )
  const candidates =
    exact.length > 0 ? exact : applicable.filter((d) => d.target !== null && transient.has(d.target))
  // The deepest node's transition wins, as in the machine.
  const deepest = Math.max(...candidates.map((c) => c.node.path.length))
  return candidates
    .filter((c) => c.node.path.length === deepest)
    .slice(0, 1)
    .map((c) => c.key)
}

export const transitionsOf = <S extends { readonly value: unknown }>(
  steps: ReadonlyArray<Step<S>>,
  defined: ReadonlyArray<DefinedTransition>,
  transient: ReadonlySet<string> = new Set(),
): Set<string> => {
  const keys = new Set<string>()
  for (let i = 1; i < steps.length; i++) {
    const previous = steps[i - 1] as Step<S>
    for (const key of coveredBy(defined, previous.state, steps[i] as Step<S>, transient)) keys.add(key)
  }
  return keys
}

/** Greedy set cover: few paths that together take every transition any path takes. */
export const chooseCover = <
  S extends { readonly value: unknown },
  P extends { readonly steps: ReadonlyArray<Step<S>> },
>(
  paths: ReadonlyArray<P>,
  defined: ReadonlyArray<DefinedTransition>,
  transient: ReadonlySet<string> = new Set(),
) => {
  const covers = paths.map((p) => ({
    path: p,
    keys: transitionsOf(p.steps, defined, transient),
    states: new Set(p.steps.map((s) => flat(s.state.value))),
  }))
  const uncovered = new Set(covers.flatMap((c) => [...c.keys]))
  const chosen: Array<(typeof covers)[number]> = []
  while (uncovered.size > 0) {
    const best = covers.reduce((a, b) =>
      [...b.keys].filter((k) => uncovered.has(k)).length > [...a.keys].filter((k) => uncovered.has(k)).length
        ? b
        : a,
    )
    chosen.push(best)
    for (const k of best.keys) uncovered.delete(k)
  }
  return chosen
}
