export { type Command, type CommandIo, type ParsedArgs, waitForAbort } from './command.js'
export { main } from './main.js'
