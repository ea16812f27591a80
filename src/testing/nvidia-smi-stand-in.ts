// Test helper: a stand-in `nvidia-smi` (a tiny sh script in a temp dir) and the projection of
// real nvidia-smi captures onto the collector's query. Not part of the runtime.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface StandInBehaviour {
  /** stdout for `--query-gpu=…` */
  gpuOut?: string
  gpuExit?: number
  /** stdout for `--query-compute-apps=…` */
  appsOut?: string
  appsExit?: number
  /** Never answer (the collector's timeout must kill it). */
  hang?: boolean
}

export interface StandIn {
  path: string
  dir: string
  /** Swap what the next call prints (GPUs come and go, the driver breaks and recovers). */
  set(behaviour: StandInBehaviour): Promise<void>
  /** argv of every call so far, one array per call. */
  calls(): Promise<string[][]>
  remove(): Promise<void>
}

const SCRIPT = `#!/bin/sh
d="$(dirname "$0")"
{ for a in "$@"; do printf '%s\\t' "$a"; done; printf '\\n'; } >> "$d/calls.log"
if [ -f "$d/hang" ]; then exec sleep 600; fi
case "$1" in
  --query-gpu=*) cat "$d/gpu.out"; exit "$(cat "$d/gpu.exit")" ;;
  --query-compute-apps=*) cat "$d/apps.out"; exit "$(cat "$d/apps.exit")" ;;
esac
echo "stand-in nvidia-smi: unexpected arguments $*"
exit 2
`

export async function createStandIn(behaviour: StandInBehaviour = {}): Promise<StandIn> {
  const dir = await mkdtemp(join(tmpdir(), 'inferwatch-smi-'))
  const path = join(dir, 'nvidia-smi')
  await writeFile(path, SCRIPT)
  await chmod(path, 0o755)
  await writeFile(join(dir, 'calls.log'), '')
  const set = async (b: StandInBehaviour) => {
    await writeFile(join(dir, 'gpu.out'), b.gpuOut ?? '')
    await writeFile(join(dir, 'gpu.exit'), String(b.gpuExit ?? 0))
    await writeFile(join(dir, 'apps.out'), b.appsOut ?? '')
    await writeFile(join(dir, 'apps.exit'), String(b.appsExit ?? 0))
    if (b.hang) await writeFile(join(dir, 'hang'), '')
    else await rm(join(dir, 'hang'), { force: true })
  }
  await set(behaviour)
  return {
    path,
    dir,
    set,
    async calls() {
      const text = await readFile(join(dir, 'calls.log'), 'utf8')
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t').slice(0, -1))
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

const ALIASES: Record<string, string> = { gpu_name: 'name', used_memory: 'used_gpu_memory' }

export interface Capture {
  /** Field names of the capture's columns (from its header, else from the command in .source.txt). */
  fields: string[]
  /** Raw cells per GPU row (trimmed, units kept as printed). */
  rows: string[][]
}

/** Reads a `--query-gpu`/`--query-compute-apps` CSV capture; `commandFields` when it has no header. */
export function parseCapture(text: string, commandFields?: string[]): Capture {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  const first = (lines[0] ?? '').split(',').map((c) => c.trim().replace(/\s*\[[^\]]*\]$/, ''))
  const hasHeader = commandFields ? first[0] === commandFields[0] : true
  const fields = (hasHeader ? first : (commandFields ?? [])).map((f) => ALIASES[f] ?? f)
  const rows = (hasHeader ? lines.slice(1) : lines).map((l) => l.split(',').map((c) => c.trim()))
  return { fields, rows }
}

/** The field list of the command line in a `.source.txt` beside a capture. */
export function commandFields(sourceText: string): string[] | undefined {
  const m = /--query-(?:gpu|compute-apps)=([^\s]+)/.exec(sourceText)
  return m?.[1]?.split(',')
}

/**
 * What nvidia-smi would print for `want` fields: the capture's cells re-ordered, units stripped
 * when `nounits`. Identity fields a short capture lacks get stand-in values (index = row number).
 */
export function projectCapture(
  capture: Capture,
  want: readonly string[],
  nounits: boolean,
): string {
  return capture.rows
    .map((row, i) =>
      want
        .map((f) => {
          const at = capture.fields.indexOf(f)
          if (at >= 0) {
            const cell = row[at] ?? ''
            return nounits ? cell.replace(/^([+-]?[\d.]+) (MiB|%|W|MHz)$/, '$1') : cell
          }
          if (f === 'index') return String(i)
          if (f === 'uuid') return `GPU-capture-${i}`
          if (f === 'name') return 'capture GPU'
          return '[N/A]'
        })
        .join(', '),
    )
    .map((l) => `${l}\n`)
    .join('')
}
