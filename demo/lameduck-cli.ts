/**
 * `lameduck` from source, as the bin runs the compiled one: the demo starts `lameduck serve` with
 * `node --import tsx demo/lameduck-cli.ts serve ...`, so a change in src/ shows without a build.
 */
import { main } from '../src/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
