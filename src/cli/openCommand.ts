/**
 * `codexd open [--print]`: a one-time sign-in URL for the dashboard, asked of the running daemon with
 * the API token (which stays here: the browser gets only a session cookie). Printed always; opened in
 * the desktop's browser too when there is one and `--print` was not given.
 */
import { execa } from "execa"
import { errorMessage } from "../client/apiConnection.ts"
import { withApi } from "./clientSupport.ts"
import { type Command, ExitCode } from "./command.ts"

/** The desktop's "open this URL" program, or null where none can be expected to work. */
const opener = (): readonly [string, ReadonlyArray<string>] | null => {
  if (process.platform === "darwin") return ["open", []]
  if (process.platform === "win32") return ["cmd", ["/c", "start", '""']]
  if (process.env.DISPLAY === undefined && process.env.WAYLAND_DISPLAY === undefined) return null
  return ["xdg-open", []]
}

export const openCommand: Command = {
  name: "open",
  summary: "sign a browser in to the dashboard: print (and open) a one-time URL",
  usage: "codexd open [--print]",
  flags: { print: { kind: "boolean", describe: "only print the URL, do not open a browser" } },
  needsConfig: true,
  run: ({ args, config, io }) =>
    withApi("open", config, io, async (_client, api) => {
      const reply = await api.call("POST", "/v1/dashboard/sign-in-links")
      if (reply.status !== 201) {
        io.err(`codexd open: ${errorMessage(reply)}\n`)
        return ExitCode.failed
      }
      const url = `${api.base}${String(reply.json.path)}`
      io.out(`${url}\n`)
      const program = args.flags.print === true ? null : opener()
      if (program === null) return ExitCode.ok
      const [command, commandArgs] = program
      // A browser that cannot be started leaves the printed URL to be opened by hand.
      const opened = await execa(command, [...commandArgs, url], {
        reject: false,
        stdio: "ignore",
        timeout: 10_000,
      })
      if (opened.failed) io.err(`codexd open: could not start a browser (${command}); open the URL above\n`)
      return ExitCode.ok
    }),
}
