// The few browser APIs the page uses, typed here: the project compiles against Node's types
// only, and this keeps the page's code type-checked without pulling the DOM into every area.

export interface Ev {
  key?: string
  preventDefault(): void
}

export interface Elem {
  textContent: string | null
  className: string
  hidden: boolean
  title: string
  clientWidth: number
  readonly dataset: Record<string, string | undefined>
  setAttribute(name: string, value: string): void
  getAttribute(name: string): string | null
  append(...nodes: (Elem | string)[]): void
  replaceChildren(...nodes: (Elem | string)[]): void
  querySelector(selector: string): Elem | null
  querySelectorAll(selector: string): ArrayLike<Elem>
  addEventListener(type: string, fn: (ev: Ev) => void): void
  remove(): void
}

export interface MediaQuery {
  matches: boolean
  addEventListener(type: 'change', fn: () => void): void
}

interface Doc {
  documentElement: Elem & { lang: string }
  body: Elem
  cookie: string
  createElement(tag: string): Elem
  getElementById(id: string): Elem | null
  querySelectorAll(selector: string): ArrayLike<Elem>
}

export interface CanvasCtx {
  save(): void
  restore(): void
  beginPath(): void
  moveTo(x: number, y: number): void
  lineTo(x: number, y: number): void
  stroke(): void
  fillText(text: string, x: number, y: number): void
  setLineDash(segments: number[]): void
  strokeStyle: string
  fillStyle: string
  lineWidth: number
  font: string
  textAlign: string
  textBaseline: string
}

export type Column = (number | null)[]

export interface UPlotSeries {
  label?: string
  scale?: string
  stroke?: string
  width?: number
  dash?: number[]
  spanGaps?: boolean
  points?: { show: boolean }
  show?: boolean
}

export interface UPlot {
  data: Column[]
  bbox: { left: number; top: number; width: number; height: number }
  ctx: CanvasCtx
  cursor: { idx?: number | null }
  setData(data: Column[], resetScales?: boolean): void
  setSize(size: { width: number; height: number }): void
  setSeries(index: number, opts: { show: boolean }): void
  valToPos(value: number, scale: string, canvasPixels?: boolean): number
  destroy(): void
}

export type UPlotCtor = new (opts: Record<string, unknown>, data: Column[], target: Elem) => UPlot

interface Win {
  document: Doc
  location: { search: string; replace(url: string): void }
  matchMedia(query: string): MediaQuery
  getComputedStyle(el: Elem): { getPropertyValue(name: string): string }
  addEventListener(type: string, fn: () => void): void
  devicePixelRatio: number
  uPlot?: UPlotCtor
}

export const win = globalThis as unknown as Win
export const doc = win.document

/** An element with attributes and children; strings become text nodes, never markup. */
export function el(
  tag: string,
  attrs: Record<string, string | undefined> = {},
  ...children: (Elem | string)[]
): Elem {
  const e = doc.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue
    if (k === 'class') e.className = v
    else e.setAttribute(k, v)
  }
  e.append(...children)
  return e
}

export function byId(id: string): Elem {
  const e = doc.getElementById(id)
  if (!e) throw new Error(`#${id} is missing from the page`)
  return e
}

/** A CSS custom property of the page (the palette follows prefers-color-scheme). */
export const cssVar = (name: string): string =>
  win.getComputedStyle(doc.documentElement).getPropertyValue(name).trim()
