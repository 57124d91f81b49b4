/** Evaluation panel: the latest offline `eval` / `replay` runs as a table (GET /v1/evaluations). */
import { api } from '../lib/api.js';
import { byId, count, describeError, fill, h, notice, num, timeAgo } from '../lib/dom.js';

const ROWS = 8;

/** Columns shown when some run has them; `keys` are the names eval and replay summaries use. */
const METRICS = [
  { label: 'nDCG', keys: ['ndcg'] },
  { label: 'Hit rate', keys: ['hit_rate', 'hitRate'] },
  { label: 'Precision', keys: ['precision'] },
  { label: 'Recall', keys: ['recall'] },
  { label: 'MAP', keys: ['map'] },
  { label: 'Coverage', keys: ['coverage'] },
  { label: 'RMSE', keys: ['rmse'] },
  { label: 'Events', keys: ['events', 'test_rows'], format: count },
];

export function evaluationsPanel(root) {
  const view = { table: byId(root, 'evaluations'), message: byId(root, 'evaluations-message') };

  async function refresh() {
    try {
      const runs = await api('/v1/evaluations');
      renderTable(runs.slice(0, ROWS));
    } catch (error) {
      fill(view.table);
      notice(view.message, describeError(error, 'Evaluation history'), error.missingRoute ? 'muted' : 'error');
    }
  }

  function renderTable(runs) {
    if (runs.length === 0) {
      fill(view.table);
      notice(view.message, 'No runs recorded yet: liverec eval or replay with --record <db> adds one.', 'muted');
      return;
    }
    notice(view.message, '');
    const columns = METRICS.filter((m) => runs.some((run) => typeof metric(run.summary, m) === 'number'));
    fill(
      view.table,
      h('table', { 'data-testid': 'evaluations-table' },
        h('caption', { class: 'visually-hidden', text: 'Latest evaluation and replay runs, newest first' }),
        h('thead', {}, h('tr', {},
          ['Run', 'When', 'Algorithm', 'k'].map((label) => h('th', { scope: 'col', class: label === 'k' ? 'num' : null, text: label })),
          columns.map((m) => h('th', { scope: 'col', class: 'num', text: m.label })),
        )),
        h('tbody', {}, runs.map((run) => row(run, columns))),
      ),
    );
  }

  return { refresh };
}

function row({ kind, createdAt, summary = {} }, columns) {
  const mode = summary.mode ?? summary.split;
  return h('tr', { 'data-testid': 'evaluation' },
    h('th', { scope: 'row' },
      h('span', { class: `badge ${kind === 'replay' ? 'info' : 'ok'}`, text: kind }),
      mode ? h('span', { class: 'hint', text: ` ${mode}` }) : null),
    h('td', {}, timeAgo(createdAt)),
    h('td', { title: paramsText(summary.params) }, summary.algorithm ?? '–'),
    h('td', { class: 'num', text: summary.k ?? '–' }),
    columns.map((m) => {
      const value = metric(summary, m);
      return h('td', { class: 'num', text: typeof value === 'number' ? (m.format ?? num)(value) : '–' });
    }),
  );
}

function metric(summary, { keys }) {
  for (const key of keys) if (summary?.[key] !== undefined && summary[key] !== null) return summary[key];
  return undefined;
}

function paramsText(params) {
  if (!params || typeof params !== 'object') return null;
  return Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ');
}
