/**
 * The API's edges against a real `codexd start` (fake app-server): a configured loopback address
 * other than 127.0.0.1 is served and reachable by the CLI, requests whose target cannot be trusted
 * are refused, and a symlinked token file is replaced, never followed.
 */
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { apiAccess } from "./support/apiClient.ts"
import { runCodexd } from "./support/cli.ts"
import { fakeDaemonConfig } from "./support/daemonHarness.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const startFakeDaemon = async (env: Record<string, string> = {}, before?: (dir: string) => void) => {
  const temp = makeTempDir("codexd-edges-")
  cleanups.push(temp.cleanup)
  writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
  const config = fakeDaemonConfig(temp.path)
  before?.(temp.path)
  const daemon: DaemonProcess = startDaemonProcess(
    [],
    {
      CODEXD_CHILD_COMMAND: process.execPath,
      CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", temp.path]),
      ...env,
    },
    temp.path,
  )
  cleanups.push(() => daemon.stop())
  await daemon.waitForOutput(/codexd ready/)
  return { dir: temp.path, config, daemon, api: apiAccess(config) }
}

/** A raw request: any target, any (repeated) headers. */
const raw = (base: string, path: string, headers: Array<string>) =>
  new Promise<number>((resolve, reject) => {
    const url = new URL(base)
    const req = request({ host: url.hostname, port: url.port, path, headers, setHost: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on("error", reject)
    req.end()
  })

describe("the API's edges", () => {
  it("serves a configured loopback address other than 127.0.0.1, and the CLI reaches it", async () => {
    const { dir, api } = await startFakeDaemon({ CODEXD_API_BASE: "http://127.0.0.2:0" })
    expect(api.base).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/)
    expect((await api.call("GET", "/v1/status")).status).toBe(200)
    const runs = await runCodexd(["runs", "--json"], { cwd: dir })
    expect(runs.exitCode).toBe(0)
    expect(JSON.parse(runs.stdout)).toEqual({ runs: [] })
  })

  it("refuses two Host headers and an absolute-form target naming another host", async () => {
    const { api } = await startFakeDaemon()
    const host = new URL(api.base).host
    const auth = ["authorization", `Bearer ${api.token}`]
    expect(await raw(api.base, "/v1/status", ["host", host, ...auth])).toBe(200)
    expect(await raw(api.base, "/v1/status", ["host", host, "host", "evil.example", ...auth])).toBe(400)
    expect(await raw(api.base, "http://evil.example/v1/status", ["host", host, ...auth])).toBe(400)
    expect(await raw(api.base, `http://${host}/v1/status`, ["host", host, ...auth])).toBe(200)
  })

  it("replaces a symlinked token file with a token of its own and never writes through the link", async () => {
    let planted = ""
    const { config, api } = await startFakeDaemon({}, (dir) => {
      const paths = fakeDaemonConfig(dir).paths
      planted = join(dir, "attacker-token")
      writeFileSync(planted, "attacker-chosen-token\n")
      mkdirSync(paths.stateDir, { recursive: true })
      symlinkSync(planted, paths.apiTokenPath)
    })
    expect(lstatSync(config.paths.apiTokenPath).isSymbolicLink()).toBe(false)
    expect(readFileSync(planted, "utf8")).toBe("attacker-chosen-token\n")
    expect(api.token).not.toBe("attacker-chosen-token")
    const refused = await fetch(`${api.base}/v1/status`, {
      headers: { authorization: "Bearer attacker-chosen-token" },
    })
    expect(refused.status).toBe(401)
    expect((await api.call("GET", "/v1/status")).status).toBe(200)
  })
})
