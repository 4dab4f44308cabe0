/**
 * A throwaway PostgreSQL on loopback, for trying cluster mode and for its tests: a new cluster in a
 * temporary directory, listening on 127.0.0.1 only, trusting local connections, removed when stopped.
 * It uses the PostgreSQL binaries installed on the machine (Debian's `postgresql` package, or any
 * `initdb`/`pg_ctl` on PATH). PostgreSQL refuses to run as root: as root, it runs as the `postgres`
 * user through `runuser`.
 *
 * usage: node scripts/postgres.ts [PORT]   prints the URL, runs until Ctrl-C, then removes it all
 */
import { execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface ThrowawayPostgres {
  readonly url: string
  readonly port: number
  readonly stop: () => void
}

/** The directory holding initdb and pg_ctl: PG_BIN, Debian's newest, or PATH. */
const binDir = (): string | null => {
  if (process.env.PG_BIN !== undefined) return process.env.PG_BIN
  const debian = "/usr/lib/postgresql"
  if (!existsSync(debian)) return null
  const versions = readdirSync(debian)
    .filter((v) => existsSync(join(debian, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? null : join(debian, versions[0], "bin")
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

export const startThrowawayPostgres = async (
  options: { readonly port?: number; readonly durable?: boolean } = {},
): Promise<ThrowawayPostgres> => {
  const bin = binDir()
  const tool = (name: string) => (bin === null ? name : join(bin, name))
  const asRoot = process.getuid?.() === 0
  const dir = mkdtempSync(join(tmpdir(), "codexd-pg-"))
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
    chownSync(dir, uid, gid)
  }
  const run = (name: string, args: ReadonlyArray<string>) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", tool(name), ...args], { stdio: "pipe" })
      : execFileSync(tool(name), args, { stdio: "pipe" })
  const data = join(dir, "data")
  const port = options.port ?? (await freePort())
  try {
    run("initdb", ["-D", data, "-U", "codexd", "--auth=trust", "-E", "UTF8", "--no-sync"])
    const settings = [
      "-c listen_addresses=127.0.0.1",
      `-p ${port}`,
      `-c unix_socket_directories=${dir}`,
      "-c max_connections=200",
      // A throwaway database for tests need not survive a power cut.
      ...(options.durable === true ? [] : ["-c fsync=off", "-c synchronous_commit=off"]),
    ].join(" ")
    run("pg_ctl", ["-D", data, "-l", join(dir, "postgres.log"), "-o", settings, "-w", "-t", "60", "start"])
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(`cannot start PostgreSQL (${tool("initdb")}): ${stderr || String(error)}`)
  }
  let stopped = false
  return {
    url: `postgres://codexd@127.0.0.1:${port}/postgres`,
    port,
    stop: () => {
      if (stopped) return
      stopped = true
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

if (import.meta.main) {
  const port = process.argv[2] === undefined ? 5432 : Number(process.argv[2])
  const pg = await startThrowawayPostgres({ port, durable: true })
  process.stdout.write(
    `PostgreSQL ready: CODEXD_QUEUE_URL=${pg.url}\n(Ctrl-C stops it and removes its data)\n`,
  )
  const stop = () => {
    pg.stop()
    process.exit(0)
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  setInterval(() => undefined, 2 ** 30)
}
