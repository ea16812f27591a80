import type { Command } from '../command.js'

// Placeholder: filled in by the issue that owns this command.
export const doctorCommand: Command = {
  name: 'doctor',
  summary: '(doctor) not built yet',
  usage: 'inferwatch doctor [options]',
  options: {},
  async run(_args, io) {
    io.stderr('inferwatch doctor is not built yet\n')
    return 1
  },
}
