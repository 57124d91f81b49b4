/**
 * The composition root of the command line: builds the program, registers one command per
 * file under src/cli/, and turns errors into one line on stderr and exit code 1.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerBackup } from './cli/backup.ts';
import { registerDemo } from './cli/demo.ts';
import { reportError } from './cli/errors.ts';
import { registerEval } from './cli/eval.ts';
import { registerImport } from './cli/import.ts';
import { registerImportModel } from './cli/import-model.ts';
import { registerRecommend } from './cli/recommend.ts';
import { registerReplay } from './cli/replay.ts';
import { registerServe } from './cli/serve.ts';
import { registerTrain } from './cli/train.ts';
import { registerTune } from './cli/tune.ts';

export interface Output {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

const standard: Output = {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
};

export function buildProgram(output: Output = standard): Command {
  const program = new Command('liverec')
    .description('A recommendation engine whose user profiles update with every click, buy or rating.')
    // Output and exit behaviour are set before commands are added: subcommands copy them then.
    .configureOutput({
      ...output,
      // One line in the house format: "liverec: unknown option '--x'" rather than "error: …".
      outputError: (text, write) => write(`liverec: ${text.replace(/^error: /, '')}`),
    })
    .exitOverride();
  registerEval(program);
  registerTune(program);
  registerReplay(program);
  registerImport(program);
  registerImportModel(program);
  registerTrain(program);
  registerRecommend(program);
  registerServe(program);
  registerDemo(program);
  registerBackup(program);
  return program;
}

/** Runs one command line (`argv` as in process.argv) and resolves to the exit code. */
export async function run(argv: string[], output: Output = standard): Promise<number> {
  try {
    await buildProgram(output).parseAsync(argv);
    return 0;
  } catch (err) {
    return reportError(err, output.writeErr);
  }
}

/** True when this file is the entry point (`tsx src/cli.ts`), not imported by bin/ or tests. */
function isEntry(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await run(process.argv);
