import type { Command } from 'commander';
import { engineSettings } from './config.ts';
import { engineConfig, openEngine, openExisting, withStore } from './engine.ts';
import { io } from './io.ts';
import { databaseOption, listLength } from './options.ts';

interface RecommendOptions { db: string; n: number; json?: boolean; config?: string }

export function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .summary("print a user's recommendations")
    .description(
      "Recommendations for USER from the newest trained model, with the user's latest stored feedback folded in. Unknown users get popular items (cold start), never an error.",
    )
    .argument('<user>', 'user id')
    .addOption(databaseOption())
    .option('--n <n>', 'how many items (1–100)', listLength, 10)
    .option('--json', 'print the result as JSON')
    .option('--config <file>', "the server's JSON settings file (or LIVEREC_CONFIG), so pseudonymous ids and signal weights match it")
    .action(async (user: string, options: RecommendOptions, command: Command) => {
      const { out } = io(command);
      const settings = engineSettings(options.config, process.env);
      const store = await openExisting(options.db);
      await withStore(store, async () => {
        // No background retrains or retention pruning: this process lives for one answer.
        const engine = await openEngine(store, { ...(await engineConfig(store, settings)), retrainEvery: 0, retrainMinutes: 0, retentionDays: 0 });
        try {
          const result = await engine.recommend(user, { n: options.n });
          if (options.json) return out(JSON.stringify(result) + '\n');
          const source = result.modelVersion === null ? 'popular items (no model trained yet)' : `model version ${result.modelVersion}`;
          out(`recommendations for user ${user} from ${source}:\n`);
          const titles = new Map((await store.getItems(result.recommendations.map((r) => r.itemId))).map((item) => [item.itemId, item.title]));
          const rows = result.recommendations.map((r, i) => [String(i + 1), r.itemId, r.score.toFixed(4), titles.get(r.itemId) ?? '']);
          out(columns([['rank', 'item', 'score', 'title'], ...rows]));
        } finally {
          await engine.close();
        }
      });
    });
}

/** Left-aligned columns; the last one is not padded so long titles do not leave trailing space. */
function columns(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n') + '\n';
}
