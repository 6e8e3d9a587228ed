/** The `berth` binary's entry (bin/berth.js imports the built copy of this file). */
import { reportError } from './output.js';
import { programFor } from './program.js';

try {
  await (await programFor(process.argv)).parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
