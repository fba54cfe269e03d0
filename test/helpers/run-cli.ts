/**
 * Runs the CLI as the bin does, from source, so tests can spawn it with tap's loaders (and coverage).
 */
import { main } from '../../src/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
