import type { Command } from '../command.js'

// Placeholder: filled in by the issue that owns this command.
export const proxyCommand: Command = {
  name: 'proxy',
  summary: '(proxy) not built yet',
  usage: 'inferwatch proxy [options]',
  options: {},
  async run(_args, io) {
    io.stderr('inferwatch proxy is not built yet\n')
    return 1
  },
}
