/**
 * A machine drawn as an SVG of nested boxes, from its definition (`machine.root`), so the picture is
 * always the machine that runs: a compound state is a box holding its children in a grid, a leaf a
 * labelled box. Each box carries `data-path` (`alive.running`), which the page matches against the
 * live state to highlight it. Transitions are not drawn (a nested layout has no room for readable
 * arrows); the page lists them beside it as the Mermaid text `machines --mermaid` prints.
 */
import type { AnyStateMachine, AnyStateNode } from "xstate"
import { escapeHtml } from "../api/docsPage.ts"

interface Box {
  readonly width: number
  readonly height: number
  readonly draw: (x: number, y: number) => string
}

const CHAR_WIDTH = 7
const LEAF_HEIGHT = 26
const TITLE_HEIGHT = 18
const PAD = 8
const GAP = 8

const childrenOf = (node: AnyStateNode): Array<AnyStateNode> =>
  Object.values(node.states) as Array<AnyStateNode>

const boxOf = (node: AnyStateNode): Box => {
  const path = node.path.join(".")
  const label = escapeHtml(node.key)
  const children = childrenOf(node).map(boxOf)
  if (children.length === 0) {
    const width = node.key.length * CHAR_WIDTH + 2 * PAD
    return {
      width,
      height: LEAF_HEIGHT,
      draw: (x, y) =>
        `<g class="state" data-path="${escapeHtml(path)}"><rect x="${x}" y="${y}" width="${width}" height="${LEAF_HEIGHT}" rx="6"/>` +
        `<text x="${x + width / 2}" y="${y + LEAF_HEIGHT / 2 + 4}" text-anchor="middle">${label}</text></g>`,
    }
  }
  // Children in a near-square grid: rows of ceil(sqrt(n)), each row as tall as its tallest box.
  const columns = Math.ceil(Math.sqrt(children.length))
  const rows: Array<Array<Box>> = []
  for (let i = 0; i < children.length; i += columns) rows.push(children.slice(i, i + columns))
  const rowWidth = (row: ReadonlyArray<Box>) =>
    row.reduce((sum, b) => sum + b.width, 0) + GAP * (row.length - 1)
  const rowHeight = (row: ReadonlyArray<Box>) => Math.max(...row.map((b) => b.height))
  const inner = Math.max(...rows.map(rowWidth), node.key.length * CHAR_WIDTH)
  const width = inner + 2 * PAD
  const height = TITLE_HEIGHT + rows.reduce((sum, r) => sum + rowHeight(r) + GAP, 0) + PAD
  const isRoot = node.path.length === 0
  return {
    width,
    height,
    draw: (x, y) => {
      let out = isRoot
        ? ""
        : `<g class="state compound" data-path="${escapeHtml(path)}"><rect x="${x}" y="${y}" width="${width}" height="${height}" rx="8"/>` +
          `<text x="${x + PAD}" y="${y + 13}">${label}</text></g>`
      let rowY = y + TITLE_HEIGHT
      for (const row of rows) {
        let boxX = x + PAD
        for (const box of row) {
          out += box.draw(boxX, rowY)
          boxX += box.width + GAP
        }
        rowY += rowHeight(row) + GAP
      }
      return out
    },
  }
}

/** The machine as an inline SVG element, its states addressable by `data-path`. */
export const machineSvg = (name: string, machine: AnyStateMachine): string => {
  const box = boxOf(machine.root)
  return `<svg class="machine" data-machine="${escapeHtml(name)}" viewBox="0 0 ${box.width} ${box.height}" width="${box.width}" height="${box.height}" role="img" aria-label="${escapeHtml(name)}">${box.draw(0, 0)}</svg>`
}
