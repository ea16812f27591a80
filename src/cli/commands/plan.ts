import type { Command } from '../command.js'

// Placeholder: filled in by the issue that owns this command.
export const planCommand: Command = {
  name: 'plan',
  summary: '(plan) not built yet',
  usage: 'inferwatch plan [options]',
  options: {},
  async run(_args, io) {
    io.stderr('inferwatch plan is not built yet\n')
    return 1
  },
}
