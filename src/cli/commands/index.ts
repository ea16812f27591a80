import type { Command } from '../command.js'
import { benchCommand } from './bench.js'
import { demoCommand } from './demo.js'
import { doctorCommand } from './doctor.js'
import { gpuCommand } from './gpu.js'
import { planCommand } from './plan.js'
import { proxyCommand } from './proxy.js'
import { relayCommand } from './relay.js'
import { rulesCommand } from './rules.js'
import { simCommand } from './sim.js'
import { upCommand } from './up.js'

/** Every command, in the order --help lists them. */
export const COMMANDS: readonly Command[] = [
  upCommand,
  proxyCommand,
  rulesCommand,
  relayCommand,
  gpuCommand,
  doctorCommand,
  planCommand,
  demoCommand,
  simCommand,
  benchCommand,
]
