/**
 * A Mermaid `stateDiagram-v2` of a machine, generated from its definition (`machine.root`), so the
 * diagram in `codexd machines --mermaid` is always the machine that runs.
 */
import type { AnyStateMachine, AnyStateNode } from "xstate"

const idOf = (node: AnyStateNode): string => node.path.join("_") || node.machine.id

/** `xstate.after.startTimeout.child.alive.starting` → `after startTimeout` */
const eventLabel = (eventType: string): string => {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType)
  if (after) return `after ${after[1]}`
  if (eventType.startsWith("xstate.done.")) return "done"
  if (eventType.startsWith("xstate.error.")) return "error"
  return eventType === "" ? "always" : eventType
}

const guardLabel = (guard: unknown): string => {
  if (guard === undefined) return ""
  if (typeof guard === "string") return ` [${guard}]`
  if (typeof guard === "object" && guard !== null && "type" in guard) return ` [${String(guard.type)}]`
  return " [guard]"
}

const childrenOf = (node: AnyStateNode): Array<AnyStateNode> =>
  Object.values(node.states) as Array<AnyStateNode>

/** A node's own outgoing transitions; `sources` stands for the node (all children, for the root). */
const transitionLines = (
  node: AnyStateNode,
  sources: ReadonlyArray<AnyStateNode>,
  indent: string,
): Array<string> => {
  const out: Array<string> = []
  const eventless: ReadonlyArray<
    [string, ReadonlyArray<{ target?: ReadonlyArray<AnyStateNode> | undefined; guard?: unknown }>]
  > = node.always === undefined ? [] : [["", node.always]]
  for (const [eventType, transitions] of [...node.transitions, ...eventless]) {
    for (const transition of transitions) {
      for (const target of transition.target ?? []) {
        for (const source of sources) {
          if (source !== target)
            out.push(
              `${indent}${idOf(source)} --> ${idOf(target)} : ${eventLabel(eventType)}${guardLabel(transition.guard)}`,
            )
        }
      }
    }
  }
  return out
}

/** The states inside `node`: each declared, compound ones as nested blocks, then their transitions. */
const bodyLines = (node: AnyStateNode, indent: string): Array<string> => {
  const out: Array<string> = []
  const initial = node.config.initial
  if (typeof initial === "string") out.push(`${indent}[*] --> ${idOf(node.states[initial] as AnyStateNode)}`)
  for (const child of childrenOf(node)) {
    if (childrenOf(child).length > 0) {
      out.push(`${indent}state ${idOf(child)} {`, ...bodyLines(child, `${indent}  `), `${indent}}`)
    } else {
      out.push(`${indent}${idOf(child)} : ${child.key}`)
    }
  }
  for (const child of childrenOf(node)) out.push(...transitionLines(child, [child], indent))
  return out
}

export const toMermaid = (machine: AnyStateMachine): string => {
  const root = machine.root
  const body = [
    "stateDiagram-v2",
    ...bodyLines(root, "  "),
    // Root-level transitions (such as STOP from any state) leave every top-level state.
    ...transitionLines(root, childrenOf(root), "  "),
  ]
  return `${body.join("\n")}\n`
}
