/**
 * Logging: the daemon's own diagnostic log, pino JSON lines in `daemon.log`, with secrets redacted.
 * Effect's logger forwards here, so `Effect.log*` anywhere in the daemon lands in the same file.
 * Does not own the structured event log (the EventLog writes that one).
 */
import { dirname } from "node:path"
import * as Cause from "effect/Cause"
import type * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import pino from "pino"
import { type RotationPolicy, rotateDestination } from "../../system/logRotation.ts"
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"
import { redactSecrets, redactText } from "./redact.ts"

export type PinoLogger = pino.Logger

export interface PinoFileOptions {
  readonly sync?: boolean
  readonly rotation?: RotationPolicy
}

/** A pino logger writing JSON lines to `path`; every object and message passes through redaction. */
export const openPinoFile = (path: string, options: PinoFileOptions = {}): PinoLogger => {
  ensurePrivateDir(dirname(path))
  const destination = pino.destination({ dest: path, sync: options.sync ?? false, mode: PRIVATE_FILE_MODE })
  if (options.rotation !== undefined) rotateDestination(destination, path, options.rotation)
  return pino(
    {
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSecrets(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === "string" ? redactText(arg) : arg)) as Parameters<typeof method>,
          )
        },
      },
    },
    destination,
  )
}

const pinoLevel = (level: LogLevel.LogLevel): pino.Level => {
  switch (level) {
    case "Fatal":
      return "fatal"
    case "Error":
      return "error"
    case "Warn":
      return "warn"
    case "Debug":
      return "debug"
    case "Trace":
    case "All":
      return "trace"
    default:
      return "info"
  }
}

const messageText = (message: unknown): string =>
  (Array.isArray(message) ? message : [message])
    .map((part) => (typeof part === "string" ? part : JSON.stringify(part)))
    .join(" ")

/** An Effect logger that hands every entry to `target`. */
export const pinoLogger = (target: PinoLogger): Logger.Logger<unknown, void> =>
  Logger.make(({ message, logLevel, cause }) => {
    const level = pinoLevel(logLevel)
    if (cause.reasons.length === 0) target[level](messageText(message))
    else target[level]({ cause: Cause.pretty(cause) }, messageText(message))
  })

/** Replaces Effect's default console logger with the daemon log file. */
export const fileLoggingLayer = (target: PinoLogger): Layer.Layer<never> => Logger.layer([pinoLogger(target)])
