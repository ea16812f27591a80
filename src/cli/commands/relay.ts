import type { Command } from '../command.js'

// Placeholder: filled in by the issue that owns this command.
export const relayCommand: Command = {
  name: 'relay',
  summary: '(relay) not built yet',
  usage: 'inferwatch relay [options]',
  options: {},
  async run(_args, io) {
    io.stderr('inferwatch relay is not built yet\n')
    return 1
  },
}
