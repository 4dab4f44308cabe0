/** `codexd config [--json]`: the resolved configuration, for people or for programs. */
import {
  CONFIG_FILE_NAME,
  type SettingKey,
  type SettingSource,
  settingKeys,
  settingSources,
  settings,
} from "../config.ts"
import type { ResolvedConfig } from "../domain/config.ts"
import { withoutCredentials } from "../services/cluster/pgDatabase.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

const settingValue = (config: ResolvedConfig, key: (typeof settingKeys)[number]): string => {
  switch (key) {
    case "repoRoot":
    case "stateRootDir":
    case "logsRootDir":
      return config.paths[key]
    case "nodeId":
    case "eventCacheSize":
    case "smokeLifetimeMs":
    case "runRetention":
    case "protocolLog":
      return String(config[key])
    case "maxConcurrentRuns":
    case "runSilenceTimeoutMs":
    case "approvals":
    case "approvalTimeoutMs":
      return String(config.runs[key])
    case "logMaxBytes":
      return String(config.logRotation.maxBytes)
    case "logKeep":
      return String(config.logRotation.keep)
    case "localApiBase":
    case "eventStreamPath":
      return config.service[key]
    case "childArgs":
      return JSON.stringify(config.server.childArgs)
    case "queueUrl":
      return config.cluster?.queueUrl == null ? "(none)" : withoutCredentials(config.cluster.queueUrl)
    case "nodeLeaseMs":
      return String(config.cluster?.nodeLeaseMs ?? settings.nodeLeaseMs.default)
    case "serverTokenFile":
      return config.server.serverTokenFile ?? "(none)"
    default:
      return config.server[key]
  }
}

export const renderConfig = (
  config: ResolvedConfig,
  sources: Readonly<Record<SettingKey, SettingSource>>,
): string => {
  const rows: Array<[string, string]> = settingKeys.map((key) => [
    settings[key].env,
    `${settingValue(config, key)}${sources[key] === "default" ? "" : `  (${sources[key] === "file" ? CONFIG_FILE_NAME : sources[key]})`}`,
  ])
  rows.push(["version", config.version ?? "unknown"])
  const width = Math.max(...rows.map(([name]) => name.length))
  const lines = rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`)
  lines.push("", "files:")
  const pathWidth = Math.max(...Object.keys(config.paths).map((k) => k.length))
  for (const [name, path] of Object.entries(config.paths)) lines.push(`  ${name.padEnd(pathWidth)}  ${path}`)
  return `${lines.join("\n")}\n`
}

export const configCommand: Command = {
  name: "config",
  summary: "print the resolved configuration (flags > CODEXD_* env > defaults)",
  usage: "codexd config [--json]",
  flags: jsonFlag,
  needsConfig: true,
  run: async ({ args, config, configInput, io }) => {
    const sources = settingSources(configInput, config)
    // `sources` beside the configuration: each setting's flag, env, codexd.json or default.
    io.out(
      args.flags.json === true
        ? `${JSON.stringify({ ...config, sources }, null, 2)}\n`
        : renderConfig(config, sources),
    )
    return ExitCode.ok
  },
}
