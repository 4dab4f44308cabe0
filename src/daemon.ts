/**
 * The composition root: the only place that wires live layers together.
 * Services depend on each other only through their tags; this file decides which implementations
 * run. It grows as the daemon does (supervisor, sessions, runs, API).
 */
import { Layer } from "effect"
import { CodexdConfig } from "./config.ts"
import type { ResolvedConfig } from "./domain/config.ts"
import { EventLog, type EventLogOptions } from "./services/EventLog.ts"
import { fileLoggingLayer, openPinoFile } from "./services/Logging.ts"
import { Store, type StoreError } from "./services/Store.ts"

export interface FoundationOptions {
  readonly eventLog?: EventLogOptions
}

/** Configuration, the daemon log, persistence and the event log: what every daemon feature stands on. */
export const foundationLayer = (
  config: ResolvedConfig,
  options: FoundationOptions = {},
): Layer.Layer<CodexdConfig | Store | EventLog, StoreError> =>
  Layer.provideMerge(EventLog.layer(options.eventLog), Store.layer({ readOnly: false })).pipe(
    Layer.provideMerge(CodexdConfig.layerOf(config)),
    Layer.provide(fileLoggingLayer(openPinoFile(config.paths.daemonLogPath))),
  )

/** What a client reads when no daemon runs: the same files, opened read-only (nothing moved or created). */
export const readOnlyStoreLayer = (config: ResolvedConfig): Layer.Layer<CodexdConfig | Store, StoreError> =>
  Store.layer({ readOnly: true }).pipe(Layer.provideMerge(CodexdConfig.layerOf(config)))
