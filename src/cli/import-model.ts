import { Option, type Command } from 'commander';
import { resolveConfig } from '../engine/config.ts';
import { createModel } from '../model/index.ts';
import type { ImportedFactors } from '../engine/imported-model.ts';
import { engineSettings } from './config.ts';
import { openExisting, withStore } from './engine.ts';
import { CliError } from './errors.ts';
import { io, table } from './io.ts';
import { databaseOption, number } from './options.ts';
import type { SparkAlsModel } from './spark-als.ts';
import { describeModel } from './train.ts';

/** Spark MLlib's defaults (ALS.scala), for what neither the metadata nor a flag says. */
const SPARK_DEFAULTS = { regParam: 0.1, alpha: 1 };

interface ImportModelOptions {
  db: string;
  create?: boolean;
  implicit?: boolean;
  explicit?: boolean;
  reg?: number;
  alpha?: number;
  config?: string;
  json?: boolean;
}

export function registerImportModel(program: Command): void {
  program
    .command('import-model')
    .summary('make factors trained by Spark MLlib ALS the serving model of a database')
    .argument('<dir>', 'the directory ALSModel.save(path) wrote: userFactors/, itemFactors/ (Parquet), metadata/')
    .description(
      "Loads the user and item factors Spark MLlib's ALS saved (`model.save(path)`: Parquet part files with columns id and features, any codec Spark writes) and saves them as the newest model of the database, which `serve` and `recommend` then use: it recommends, folds in new feedback, explains and finds similar items like a model trained here. Spark's integer ids become string ids (String(id)): user 42 is \"42\". Items the catalog lacks are recommended all the same. A user's vector is Spark's until their next feedback here, which folds it in from their stored history; stored users Spark lacks are folded in at import. Implicit models (implicitPrefs=true) become implicit-als, explicit ones als, both with Spark's objective (reg × each user's count of ratings or positive interactions, no biases). Spark's ALSModel metadata records only the rank: say --implicit or --explicit, and give --reg (Spark's regParam) and --alpha as trained, or Spark's defaults apply (0.1 and 1). A server's background retrain replaces the model with one trained on the database's feedback: set retrainEvery and retrainMinutes to 0 to keep serving Spark's.",
    )
    .addOption(databaseOption('the database whose serving model it becomes'))
    .option('--create', 'create the SQLite database when it does not exist')
    .addOption(new Option('--implicit', 'the model was trained with implicitPrefs=true (becomes implicit-als)').conflicts('explicit'))
    .addOption(new Option('--explicit', 'the model was trained on ratings, implicitPrefs=false (becomes als)').conflicts('implicit'))
    .option('--reg <x>', `Spark's regParam (default: the metadata's, else ${SPARK_DEFAULTS.regParam})`, number)
    .option('--alpha <x>', `Spark's alpha, implicit only (default: the metadata's, else ${SPARK_DEFAULTS.alpha})`, number)
    .option('--config <file>', "the server's JSON settings file (or LIVEREC_CONFIG): its signals and pseudonym salt apply")
    .option('--json', 'print the model info and import counts as JSON')
    .action(async (dir: string, options: ImportModelOptions, command: Command) => {
      const { out, err } = io(command);
      const config = resolveConfig(engineSettings(options.config, process.env));
      // Loaded here, not with the program: the Parquet reader and the engine serve this command only.
      const [{ readSparkAls }, { installImportedModel }] = await Promise.all([import('./spark-als.ts'), import('../engine/imported-model.ts')]);
      // The files are read and checked before the database is opened: a bad directory changes nothing.
      const spark = await readSparkAls(dir);
      const imported = toLiverec(spark, options, dir, (note) => err(`note: ${note}\n`));
      // The model's own rules (reg ≥ 0, factors ≤ 1024, …), named as it names them.
      createModel(imported.algorithm, imported.params).dispose();
      const store = await openExisting(options.db, { create: options.create });
      await withStore(store, async () => {
        const result = await installImportedModel(store, config, imported);
        const counts = {
          users: imported.users.length,
          items: imported.items.length,
          usersWithHistory: result.usersWithHistory,
          usersFoldedIn: result.usersFoldedIn,
          itemsOutsideCatalog: result.itemsOutsideCatalog,
        };
        const info = { version: result.meta.version, status: 'ready' as const, algorithm: result.meta.algorithm, params: result.meta.params, trainedAt: new Date(result.meta.trainedAt).toISOString(), metrics: result.meta.metrics };
        if (options.json) {
          out(JSON.stringify({ ...info, imported: counts }) + '\n');
          return;
        }
        out(describeModel(info));
        out(table([
          ['users (Spark)', count(counts.users)],
          ['items (Spark)', count(counts.items)],
          ['users with stored history', count(counts.usersWithHistory)],
          ['stored users folded in', count(counts.usersFoldedIn)],
          ['items not in the catalog', count(counts.itemsOutsideCatalog)],
        ]));
      });
    });
}

/** Spark's model as liverec's: the algorithm and params that keep Spark's objective for fold-in and retraining. */
function toLiverec(spark: SparkAlsModel, options: ImportModelOptions, dir: string, note: (text: string) => void): ImportedFactors {
  const { params } = spark;
  const implicit = options.implicit ? true : options.explicit ? false : params.implicitPrefs;
  if (implicit === undefined) {
    throw new CliError(`${dir}: the metadata does not record implicitPrefs (an ALSModel's records only its rank): pass --implicit if Spark trained with implicitPrefs=true, else --explicit`);
  }
  const reg = options.reg ?? params.regParam ?? SPARK_DEFAULTS.regParam;
  const alpha = options.alpha ?? params.alpha ?? SPARK_DEFAULTS.alpha;
  if (options.reg === undefined && params.regParam === undefined) note(`regParam is not in the metadata: fold-in uses Spark's default ${reg} (pass --reg to set it)`);
  if (implicit && options.alpha === undefined && params.alpha === undefined) note(`alpha is not in the metadata: fold-in uses Spark's default ${alpha} (pass --alpha to set it)`);
  if (!implicit && options.alpha !== undefined) throw new CliError('--alpha applies to implicit models only (it is the confidence scale of implicitPrefs=true)');
  if (params.nonnegative) note('Spark trained with nonnegative=true: fold-in here solves without that constraint');
  const iterations: Record<string, number> = params.maxIter !== undefined ? { iterations: params.maxIter } : {};
  return {
    algorithm: implicit ? 'implicit-als' : 'als',
    params: implicit
      ? { factors: spark.rank, reg, alpha, weightedReg: true, ...iterations }
      : { factors: spark.rank, reg, biases: false, ...iterations },
    users: spark.users.ids,
    userFactors: spark.users.factors,
    items: spark.items.ids,
    itemFactors: spark.items.factors,
    metrics: { source: 'spark-als', path: dir },
  };
}

const count = (n: number) => n.toLocaleString('en-US');
