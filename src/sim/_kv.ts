// The KV cache as a pool of fixed-size blocks (vLLM's paged attention: 16 tokens a block,
// https://docs.vllm.ai/en/latest/design/paged_attention.html) with an exact-prompt prefix cache:
// a finished prefill leaves its full prompt blocks behind, shared by later requests with the same
// prompt while they run and evictable (least recently used first) once nobody holds them. As in
// vLLM's block pool, evictable cached blocks count as free in the usage ratio.

export interface PrefixEntry {
  key: string
  blocks: number
  refs: number
}

export interface KvPool {
  readonly totalBlocks: number
  readonly blockSize: number
  /** Blocks neither allocated nor held by a referenced prefix entry, over all blocks. */
  usage(): number
  usedBlocks(): number
  /** Takes `n` blocks, evicting unreferenced prefix entries if needed; false (nothing taken) if
   * they do not fit. */
  allocate(n: number): boolean
  release(n: number): void
  /** The entry for this prompt, referenced (refs + 1), or undefined. */
  acquirePrefix(key: string): PrefixEntry | undefined
  releasePrefix(entry: PrefixEntry): void
  /** Turns `blocks` allocated blocks into the prefix entry of `key` (held once, by the caller);
   * undefined (blocks stay the caller's) when the key already has an entry. */
  publishPrefix(key: string, blocks: number): PrefixEntry | undefined
  blocksFor(tokens: number): number
}

export function createKvPool(totalBlocks: number, blockSize: number): KvPool {
  let free = totalBlocks
  /** Blocks in entries nobody references: reusable, and free for the usage ratio. */
  let evictable = 0
  // Insertion order = recency (a use moves the entry to the end).
  const entries = new Map<string, PrefixEntry>()

  const evict = (need: number): void => {
    for (const [key, e] of entries) {
      if (free >= need) return
      if (e.refs > 0) continue
      entries.delete(key)
      evictable -= e.blocks
      free += e.blocks
    }
  }

  return {
    totalBlocks,
    blockSize,
    usage: () => (totalBlocks > 0 ? (totalBlocks - free - evictable) / totalBlocks : 0),
    usedBlocks: () => totalBlocks - free - evictable,
    allocate(n) {
      if (n <= 0) return true
      if (free < n) {
        if (free + evictable < n) return false
        evict(n)
        if (free < n) return false
      }
      free -= n
      return true
    },
    release(n) {
      free = Math.min(totalBlocks, free + n)
    },
    acquirePrefix(key) {
      const e = entries.get(key)
      if (!e) return undefined
      if (e.refs === 0) evictable -= e.blocks
      e.refs++
      entries.delete(key)
      entries.set(key, e)
      return e
    },
    releasePrefix(e) {
      if (e.refs <= 0) return
      e.refs--
      if (e.refs === 0) {
        if (entries.get(e.key) === e) evictable += e.blocks
        else free += e.blocks // replaced or evicted meanwhile: nobody else can find it
      }
    },
    publishPrefix(key, blocks) {
      if (blocks <= 0 || entries.has(key)) return undefined
      const e = { key, blocks, refs: 1 }
      entries.set(key, e)
      return e
    },
    blocksFor: (tokens) => Math.ceil(Math.max(0, tokens) / blockSize),
  }
}
