/**
 * `codexd service install|uninstall|status [--user]`: start this project's daemon on boot (or, with
 * `--user`, on login) and restart it when it fails: a systemd unit on Linux, a launchd agent on macOS.
 * The unit runs `codexd start` in the foreground with the same Node and entry point as this command,
 * in the project's directory; systemd (or launchd) does the supervising a `--detach` would.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { basename, dirname, join } from "node:path"
import type { ResolvedConfig } from "../domain/config.ts"
import { codexdEntry, DAEMON_NODE_FLAGS } from "../system/packageRoot.ts"
import { type Command, ExitCode, jsonFlag } from "./command.ts"

/** One unit per project: its directory's name and a short hash of its path. */
export const serviceName = (repoRoot: string): string => {
  const slug = basename(repoRoot).replace(/[^A-Za-z0-9_.-]/g, "-") || "project"
  return `codexd-${slug}-${createHash("sha256").update(repoRoot).digest("hex").slice(0, 8)}`
}

const execStart = (): Array<string> => [process.execPath, ...DAEMON_NODE_FLAGS, codexdEntry, "start"]

/** systemd quotes: every word in double quotes, with `\` and `"` escaped and `%` doubled. */
const systemdWord = (word: string): string => `"${word.replace(/[\\"]/g, "\\$&").replace(/%/g, "%%")}"`

export const systemdUnit = (config: ResolvedConfig, user: boolean): string =>
  [
    "[Unit]",
    `Description=codexd for ${config.paths.repoRoot}`,
    "After=network.target",
    "",
    "[Service]",
    "Type=simple",
    `WorkingDirectory=${config.paths.repoRoot}`,
    `ExecStart=${execStart().map(systemdWord).join(" ")}`,
    // SIGTERM is the daemon's graceful stop: it stops the child and records itself stopped.
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30",
    "Restart=on-failure",
    "RestartSec=5",
    ...(process.env.CODEX_HOME ? [`Environment=${systemdWord(`CODEX_HOME=${process.env.CODEX_HOME}`)}`] : []),
    "",
    "[Install]",
    `WantedBy=${user ? "default.target" : "multi-user.target"}`,
    "",
  ].join("\n")

const xml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export const launchdPlist = (config: ResolvedConfig, label: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>${xml(label)}</string>
  <key>ProgramArguments</key>
  <array>
${execStart()
  .map((word) => `    <string>${xml(word)}</string>`)
  .join("\n")}
  </array>
  <key>WorkingDirectory</key><string>${xml(config.paths.repoRoot)}</string>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
</dict>
</plist>
`

interface Placement {
  readonly kind: "systemd" | "launchd"
  readonly path: string
  readonly text: string
  /** What to run to let the service manager know, for the user to copy. */
  readonly enable: string
  readonly disable: string
}

const placement = (config: ResolvedConfig, user: boolean): Placement | string => {
  const name = serviceName(config.paths.repoRoot)
  if (process.platform === "darwin") {
    const label = `dev.codexd.${name}`
    const path = user
      ? join(homedir(), "Library", "LaunchAgents", `${label}.plist`)
      : join("/Library", "LaunchDaemons", `${label}.plist`)
    return {
      kind: "launchd",
      path,
      text: launchdPlist(config, label),
      enable: `launchctl load -w ${path}`,
      disable: `launchctl unload -w ${path}`,
    }
  }
  if (process.platform !== "linux") return `codexd service knows systemd and launchd, not ${process.platform}`
  const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), ".config")
  const path = user
    ? join(configHome, "systemd", "user", `${name}.service`)
    : join("/etc", "systemd", "system", `${name}.service`)
  const systemctl = user ? "systemctl --user" : "systemctl"
  return {
    kind: "systemd",
    path,
    text: systemdUnit(config, user),
    enable: `${systemctl} daemon-reload && ${systemctl} enable --now ${name}`,
    disable: `${systemctl} disable --now ${name}`,
  }
}

export const serviceCommand: Command = {
  name: "service",
  maxPositionals: 1,
  summary: "start this project's daemon on boot (or login with --user): install, uninstall, status",
  usage: "codexd service install|uninstall|status [--user] [--json]",
  flags: {
    ...jsonFlag,
    user: { kind: "boolean", describe: "a per-user service (started at login), not a system one" },
  },
  needsConfig: true,
  run: async ({ args, config, io }) => {
    const action = args.positionals[0]
    if (action !== "install" && action !== "uninstall" && action !== "status") {
      io.err("codexd service: say install, uninstall or status\n")
      return ExitCode.usage
    }
    const where = placement(config, args.flags.user === true)
    if (typeof where === "string") {
      io.err(`codexd service: ${where}\n`)
      return ExitCode.failed
    }
    const json = args.flags.json === true
    const installed = existsSync(where.path)
    try {
      if (action === "install") {
        mkdirSync(dirname(where.path), { recursive: true })
        writeFileSync(where.path, where.text, { mode: 0o644 })
      } else if (action === "uninstall") rmSync(where.path, { force: true })
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === "EACCES"
          ? "permission denied (root, or --user)"
          : String(error)
      io.err(`codexd service ${action}: cannot write ${where.path}: ${reason}\n`)
      return ExitCode.failed
    }
    const active =
      action === "status" && where.kind === "systemd" && installed
        ? systemdState(where.path, args.flags.user === true)
        : null
    const now = action === "install" ? true : action === "uninstall" ? false : installed
    if (json)
      io.out(`${JSON.stringify({ action, kind: where.kind, path: where.path, installed: now, active })}\n`)
    else if (action === "install") io.out(`wrote ${where.path}\nenable it with: ${where.enable}\n`)
    else if (action === "uninstall")
      io.out(
        installed ? `removed ${where.path} (first: ${where.disable})\n` : `no service at ${where.path}\n`,
      )
    else
      io.out(
        installed
          ? `${where.path}: installed${active === null ? "" : `, ${active}`}\n`
          : `not installed (${where.path})\n`,
      )
    return ExitCode.ok
  },
}

/** `systemctl is-active` for the unit, or null where systemctl cannot tell (no systemd running). */
const systemdState = (path: string, user: boolean): string | null => {
  try {
    return execFileSync("systemctl", [...(user ? ["--user"] : []), "is-active", basename(path)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim()
  } catch (error) {
    const out = (error as { stdout?: string }).stdout?.trim()
    return out === undefined || out === "" ? null : out
  }
}
