import type { Command } from '../command.js'

// Placeholder: filled in by the issue that owns this command.
export const demoCommand: Command = {
  name: 'demo',
  summary: '(demo) not built yet',
  usage: 'inferwatch demo [options]',
  options: {},
  async run(_args, io) {
    io.stderr('inferwatch demo is not built yet\n')
    return 1
  },
}
