// Small formatting helpers shared by the views.

import htm from "htm"
import { h } from "preact"

export const html = htm.bind(h)

/** `3m 12s` since an ISO time (or between two). */
export const age = (from, to = null) => {
  if (!from) return "-"
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from)
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`
}

/** Time left until an ISO deadline, or `due`. */
export const until = (deadline) => {
  const ms = Date.parse(deadline) - Date.now()
  return ms <= 0 ? "due" : age(new Date(Date.now() - ms).toISOString())
}

/** A turn's tokens from codex's usage record (`last` is the turn's own, `total` the thread's). */
export const tokensOf = (run) => {
  const usage = run.result?.tokenUsage
  const breakdown = usage?.last ?? usage?.total
  return typeof breakdown?.totalTokens === "number" ? breakdown.totalTokens : null
}

/** A token count with thousands separators. */
export const count = (n) => Number(n).toLocaleString("en")

/** A rate-limit window's length: `5h`, `7d`, `90m`. */
export const windowLength = (minutes) => {
  if (typeof minutes !== "number") return "window"
  if (minutes % 1440 === 0) return `${minutes / 1440}d`
  if (minutes % 60 === 0) return `${minutes / 60}h`
  return `${minutes}m`
}

export const short = (id) =>
  id
    ? String(id)
        .replace(/^(run|session)_/, "")
        .slice(0, 8)
    : "-"

export const clip = (text, max = 80) => {
  const s = String(text ?? "").replace(/\s+/g, " ")
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}

const lineClass = (line) => {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) return "d-file"
  if (line.startsWith("@@")) return "d-hunk"
  if (line.startsWith("+")) return "d-add"
  if (line.startsWith("-")) return "d-del"
  return ""
}

/** A unified diff with added, removed, hunk and file lines coloured. */
export const Diff = ({ text }) =>
  html`<pre class="diff">${String(text)
    .split("\n")
    // The newline is a value: htm drops whitespace holding a newline that is written in the template.
    .map((line) => html`<span class=${lineClass(line)}>${`${line}\n`}</span>`)}</pre>`
