import type { Command } from '../command.js'

// Placeholder: filled in by the issue that owns this command.
export const gpuCommand: Command = {
  name: 'gpu',
  summary: '(gpu) not built yet',
  usage: 'inferwatch gpu [options]',
  options: {},
  async run(_args, io) {
    io.stderr('inferwatch gpu is not built yet\n')
    return 1
  },
}
