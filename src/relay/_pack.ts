import type { RenderedNotification } from './_render.js'
import { truncateToFit } from './_text.js'

// Size limits are bytes of UTF-8 as each robot measures them (the vendors' docs cited in each
// driver). Messages are filled greedily on alert boundaries, each notification's header repeated on
// every message it spans; one alert too big on its own is truncated with a marker, never
// mid-character.

export interface PackChunk {
  rendered: RenderedNotification
  continued: boolean
  /** Header left out: only when even the header does not fit (a tiny maxBytes). */
  bare?: boolean
  sections: string[]
}

export interface PackSource {
  rendered: RenderedNotification
  /** Index of the first section not yet sent. */
  next: number
}

export interface Packed<B> {
  body: B
  /** Sections consumed from each source, in order; sources past the end are untouched. */
  taken: number[]
}

/** Joins a chunk into one markup string (channels that send one text field use this). */
export function chunkText(c: PackChunk, blockSep: string): string {
  return c.bare
    ? c.sections.join(blockSep)
    : [c.rendered.header(c.continued), ...c.sections].join(blockSep)
}

/** Builds the next message from the front of `sources`: as many whole alerts as fit. */
export function packMessage<B>(
  sources: readonly PackSource[],
  build: (chunks: PackChunk[]) => B,
  fits: (body: B) => boolean,
  marker: string,
  blockSep: string,
): Packed<B> {
  const chunks: PackChunk[] = []
  const taken: number[] = []
  for (const src of sources) {
    const all = src.rendered.sections
    const chunk: PackChunk = { rendered: src.rendered, continued: src.next > 0, sections: [] }
    for (let j = src.next; j < all.length; j++) {
      const section = all[j] as string
      const trial = [...chunks, { ...chunk, sections: [...chunk.sections, section] }]
      if (!fits(build(trial))) break
      chunk.sections.push(section)
    }
    if (chunk.sections.length === 0) {
      if (chunks.length > 0) break
      return { body: truncated(src, chunk, build, fits, marker, blockSep), taken: [1] }
    }
    chunks.push(chunk)
    taken.push(chunk.sections.length)
    if (src.next + chunk.sections.length < all.length) break
  }
  return { body: build(chunks), taken }
}

function truncated<B>(
  src: PackSource,
  chunk: PackChunk,
  build: (chunks: PackChunk[]) => B,
  fits: (body: B) => boolean,
  marker: string,
  blockSep: string,
): B {
  const section = src.rendered.sections[src.next] as string
  const one = (s: string) => build([{ ...chunk, sections: [s] }])
  const cut = truncateToFit(section, marker, (s) => fits(one(s)))
  if (cut !== '') return one(cut)
  // Not even the header fits: send header and alert as one truncated block.
  const whole = `${src.rendered.header(chunk.continued)}${blockSep}${section}`
  const bare = (s: string) => build([{ ...chunk, bare: true, sections: [s] }])
  return bare(truncateToFit(whole, marker, (s) => fits(bare(s))))
}
