import type { Command } from '../command.js'

// Placeholder: filled in by the issue that owns this command.
export const rulesCommand: Command = {
  name: 'rules',
  summary: '(rules) not built yet',
  usage: 'inferwatch rules [options]',
  options: {},
  async run(_args, io) {
    io.stderr('inferwatch rules is not built yet\n')
    return 1
  },
}
