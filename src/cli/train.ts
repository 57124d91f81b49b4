import type { Command } from 'commander';
import type { ModelInfo } from '../engine/types.ts';
import { createModel, type Algorithm } from '../model/index.ts';
import { modelConfig, openEngine, openExisting, withStore } from './engine.ts';
import { io, table } from './io.ts';
import { addParamOptions, algorithmOption, databaseOption, givenParams } from './options.ts';
import { withParamsFile } from './tune.ts';

interface TrainOptions { db: string; algorithm?: Algorithm; params?: string; json?: boolean }

export function registerTrain(program: Command): void {
  addParamOptions(
    program
      .command('train')
      .summary('fit a model on all stored feedback and make it the serving model')
      .description(
        "Fits a model on every stored feedback event, saves it in the database and makes it the one that `recommend` and `serve` use. Without --algorithm or parameter flags, the newest stored model's algorithm and parameters are reused (implicit-als with defaults on a first train).",
      )
      .addOption(databaseOption())
      .addOption(algorithmOption('algorithm to train'))
      .option('--params <file>', 'algorithm and params from `liverec tune --save`; flags override its values'),
  )
    .option('--json', 'print the model info as JSON')
    .action(async (options: TrainOptions, command: Command) => {
      const { out, err } = io(command);
      // Read before the store opens, so a bad file fails without touching the database.
      const chosen = withParamsFile(options.params, options.algorithm, givenParams(options as never));
      const store = await openExisting(options.db);
      await withStore(store, async () => {
        const engine = await openEngine(store, await modelConfig(store, chosen.algorithm, chosen.params));
        try {
          // The engine fits on a worker thread, where a bad param would come back as a bare Error;
          // checking here gives the model's own message (naming the param) as a user error.
          createModel(engine.config.algorithm, engine.config.params);
          err(`training ${engine.config.algorithm} on ${(await store.countFeedback()).toLocaleString('en-US')} feedback events…\n`);
          const info = await engine.trainNow();
          out(options.json ? JSON.stringify(info) + '\n' : describeModel(info));
        } finally {
          await engine.close();
        }
      });
    });
}

export function describeModel(info: ModelInfo): string {
  const params = Object.entries(info.params).map(([key, value]) => `${key}=${String(value)}`).join(' ');
  const metrics = Object.entries(info.metrics).map(([key, value]) => `${key}=${String(value)}`).join(' ');
  return table([
    ['model version', String(info.version)],
    ['algorithm', info.algorithm],
    ['params', params],
    ['trained at', info.trainedAt ?? '—'],
    ['metrics', metrics],
  ]);
}
