/**
 * A run's options checked before the run is accepted: what the mode can carry out and what the
 * schema rules say (`optionProblem`, pure), then what only this machine can tell: that each image
 * file is there. A refused run is never recorded.
 */
import { existsSync } from "node:fs"
import * as Effect from "effect/Effect"
import type { ServerMode } from "../../domain/config.ts"
import { InvalidOptionError } from "../../domain/errors.ts"
import { schemaProblem } from "../../domain/structuredOutput.ts"
import { optionProblem, type TurnOptions } from "../../domain/turnOptions.ts"

/** The options as codexd can pass them on, or the first that it cannot, named. */
export const checkRunOptions = (
  options: TurnOptions,
  mode: ServerMode,
): Effect.Effect<void, InvalidOptionError> =>
  Effect.suspend(() => {
    const problem = optionProblem(options, mode, schemaProblem)
    if (problem !== null) return Effect.fail(new InvalidOptionError(problem))
    const missing = (options.images ?? []).findIndex((image) => "path" in image && !existsSync(image.path))
    return missing === -1
      ? Effect.void
      : Effect.fail(new InvalidOptionError({ option: `images[${missing}].path`, reason: "no such file" }))
  })
