/** Every machine codexd runs, by name: what `codexd machines` prints and the inspector shows. */
import type { AnyStateMachine } from "xstate"
import { childMachine } from "./childMachine.ts"
import { runMachine } from "./runMachine.ts"

export const machines: ReadonlyArray<readonly [string, AnyStateMachine]> = [
  ["childMachine", childMachine],
  ["runMachine", runMachine],
]
