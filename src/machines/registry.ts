/** Every machine codexd runs, by name: what `codexd machines` prints and the inspector shows. */
import type { AnyStateMachine } from "xstate"
import { childMachine } from "./childMachine.ts"

export const machines: ReadonlyArray<readonly [string, AnyStateMachine]> = [["childMachine", childMachine]]
