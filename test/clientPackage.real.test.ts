/**
 * `codexd/client` as a program that installed codexd uses it: a project with codexd in its
 * node_modules runs the README's example as written, against a real daemon supervising the real
 * pinned codex (the loopback model mock answers), and the example type-checks against the package's
 * declarations. Uses the bundle in `dist/` (`npm test` builds it first).
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { execa } from "execa"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { packageRoot } from "../src/system/packageRoot.ts"
import { makeCodexHome } from "./support/codexHome.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { makeTempDir } from "./support/tempConfig.ts"

/** The first TypeScript block of the README's "Use it from a program" section. */
const readmeExample = (): string => {
  const readme = readFileSync(join(packageRoot, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("### Use it from a program"))
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (block === undefined) throw new Error("the README has no example under 'Use it from a program'")
  return block
}

const project = makeTempDir("codexd-client-package-")
let mock: MockResponsesApi
let home: ReturnType<typeof makeCodexHome>
let daemon: DaemonProcess

beforeAll(async () => {
  mock = await startMockResponsesApi()
  home = makeCodexHome(`${mock.baseUrl}/v1`)
  writeFileSync(join(project.path, "package.json"), JSON.stringify({ name: "uses-codexd", type: "module" }))
  mkdirSync(join(project.path, "node_modules"))
  symlinkSync(packageRoot, join(project.path, "node_modules", "codexd"))
  writeFileSync(join(project.path, "example.ts"), readmeExample())
  daemon = startDaemonProcess([], home.env, project.path)
  await daemon.waitForOutput(/codexd ready: .* api http/, 60_000)
}, 90_000)

afterAll(async () => {
  await daemon?.stop()
  home?.cleanup()
  await mock?.close()
  project.cleanup()
})

describe("codexd/client from an installed package", () => {
  it("runs the README's example as written", async () => {
    expect(existsSync(join(packageRoot, "dist", "client.js"))).toBe(true)
    mock.enqueue(
      { kind: "text", deltas: ["Hello", " from codex"] },
      { kind: "text", deltas: ['{"ok":true}'] },
    )
    const run = await execa(process.execPath, ["example.ts"], {
      cwd: project.path,
      reject: false,
      timeout: 120_000,
    })
    expect(run.stderr).toBe("")
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe("Hello from codex\ncompleted: completed: Hello from codex\n{ ok: true }")
  }, 150_000)

  it("type-checks against the package's declarations", async () => {
    const tsconfig = (name: string, file: string) =>
      writeFileSync(
        join(project.path, name),
        JSON.stringify({
          compilerOptions: {
            target: "es2024",
            module: "nodenext",
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            typeRoots: [join(packageRoot, "node_modules", "@types")],
            types: ["node"],
          },
          files: [file],
        }),
      )
    const tsc = (config: string) =>
      execa(join(packageRoot, "node_modules", ".bin", "tsc"), ["-p", config], {
        cwd: project.path,
        reject: false,
      })
    tsconfig("tsconfig.json", "example.ts")
    const good = await tsc("tsconfig.json")
    expect(good.stdout).toBe("")
    expect(good.exitCode).toBe(0)
    // A misuse is caught, so the check is not one that passes whatever the types say.
    writeFileSync(
      join(project.path, "misuse.ts"),
      'import { CodexdClient } from "codexd/client"\nconst c = await CodexdClient.connect()\nconst n: number = (await c.run("x")).status\n',
    )
    tsconfig("tsconfig.misuse.json", "misuse.ts")
    const bad = await tsc("tsconfig.misuse.json")
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stdout).toMatch(/misuse\.ts.*Type '.*' is not assignable to type 'number'/)
  }, 60_000)
})
