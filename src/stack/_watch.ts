import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { basename, dirname } from 'node:path'

export interface ConfigWatch {
  close(): void
}

/**
 * Calls `onChange` (debounced, one at a time) when the file's content changes. The directory is
 * watched, not the file: editors save by writing a new file and renaming it over the old one.
 */
export function watchConfigFile(path: string, onChange: () => Promise<void>): ConfigWatch {
  const read = () => {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return undefined
    }
  }
  let last = read()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const name = basename(path)
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== name) return
      if (timer) clearTimeout(timer)
      timer = setTimeout(() => {
        const now = read()
        if (now === undefined || now === last) return
        last = now
        running = running.then(onChange, onChange)
      }, 300)
    })
    watcher.unref()
  } catch {}
  return {
    close() {
      if (timer) clearTimeout(timer)
      watcher?.close()
    },
  }
}
