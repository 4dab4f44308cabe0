import { makeCodexHome } from "/work/main/test/support/codexHome.ts"
import { startMockResponsesApi } from "/work/main/test/support/mockResponsesApi.ts"

const mock = await startMockResponsesApi()
const home = makeCodexHome(process.argv[2] === "closed" ? "http://127.0.0.1:9/v1" : mock.baseUrl)
console.log(JSON.stringify(home.env))
setInterval(() => {}, 1 << 30)
