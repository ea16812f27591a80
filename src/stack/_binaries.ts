import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { AppError } from '../shared/index.js'

// Debian's packages install /usr/bin/prometheus and /usr/bin/prometheus-alertmanager; other
// layouts put them in /usr/sbin or /usr/local/bin, and upstream tarballs name the second one
// `alertmanager`.
const EXTRA_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin']
export const INSTALL_COMMAND = 'sudo apt-get install prometheus prometheus-alertmanager'

export type StackBinary = 'prometheus' | 'alertmanager'
const NAMES: Record<StackBinary, readonly string[]> = {
  prometheus: ['prometheus'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'],
}
const FLAG: Record<StackBinary, string> = {
  prometheus: '--prometheus URL',
  alertmanager: '--alertmanager URL',
}

/** Absolute path of the first executable `name` on `path` (then the usual places), or undefined. */
export function findExecutable(name: string, path: string | undefined): string | undefined {
  const dirs = [...(path ?? '').split(delimiter), ...EXTRA_DIRS]
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

export interface FindBinaryOptions {
  /** PATH to search (the command passes the environment's). */
  path: string | undefined
  /** An explicit executable (config up.prometheusPath / up.alertmanagerPath): only it is tried. */
  explicit?: string | undefined
}

/** The Prometheus or Alertmanager executable, or STACK_BINARY_MISSING with the install command. */
export function requireStackBinary(which: StackBinary, options: FindBinaryOptions): string {
  const what = which === 'prometheus' ? 'Prometheus' : 'Alertmanager'
  const hint = `install it: ${INSTALL_COMMAND} (make demo does this), or point ${FLAG[which]} at a running ${what}`
  if (options.explicit !== undefined) {
    try {
      accessSync(options.explicit, constants.X_OK)
      return options.explicit
    } catch {
      throw new AppError(
        'STACK_BINARY_MISSING',
        `${options.explicit} (up.${which}Path) is not an executable`,
        { hint: `fix up.${which}Path or remove it to search PATH; ${hint}` },
      )
    }
  }
  for (const name of NAMES[which]) {
    const found = findExecutable(name, options.path)
    if (found) return found
  }
  throw new AppError(
    'STACK_BINARY_MISSING',
    `${NAMES[which].join(' or ')} not found on PATH or in ${EXTRA_DIRS.join(', ')}`,
    { hint },
  )
}
