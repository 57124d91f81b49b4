/** Live events panel: events per minute by type over the last 30 minutes (GET /v1/stats). */
import { api } from '../lib/api.js';
import { chartsAvailable, clearChart, drawChart, typeColor, TYPE_COLORS } from '../lib/charts.js';
import { byId, count, describeError, fill, h, notice } from '../lib/dom.js';

const MINUTE = 60_000;
const WINDOW = 30;
const TYPE_ORDER = Object.keys(TYPE_COLORS);

export function eventsPanel(root) {
  const view = {
    totals: byId(root, 'events-totals'),
    chart: byId(root, 'events-chart'),
    message: byId(root, 'events-message'),
    log: byId(root, 'events-log'),
  };
  /** Until the user picks a scale, a bulk import's spike switches to log so live traffic stays visible. */
  let scaleChosen = false;
  let last = [];
  view.log.addEventListener('change', () => {
    scaleChosen = true;
    renderChart(last);
  });

  async function refresh() {
    let stats;
    try {
      stats = await api('/v1/stats');
    } catch (error) {
      fill(view.totals);
      clearChart(view.chart);
      view.chart.parentElement.hidden = true;
      view.log.parentElement.hidden = true;
      notice(view.message, describeError(error, 'The live event feed'), error.missingRoute ? 'muted' : 'error');
      return;
    }
    view.chart.parentElement.hidden = false;
    view.log.parentElement.hidden = false;
    notice(view.message, chartsAvailable() ? '' : 'Charts could not be loaded; totals only.', 'warn');
    renderTotals(stats);
    renderChart(stats.eventsPerMinute ?? []);
  }

  function renderTotals({ feedback }) {
    const types = sortTypes(Object.keys(feedback?.byType ?? {}));
    fill(
      view.totals,
      h('li', { class: 'total main' }, h('strong', { text: count(feedback?.total ?? 0) }), h('span', { text: 'events stored' })),
      types.map((type, i) =>
        h('li', { class: 'total' }, h('span', { class: 'swatch', style: { '--swatch': typeColor(type, i) }, 'aria-hidden': 'true' }), h('strong', { text: count(feedback.byType[type]) }), h('span', { text: type })),
      ),
    );
  }

  function renderChart(perMinute) {
    last = perMinute;
    const { labels, series } = lastMinutes(perMinute, Date.now());
    if (!scaleChosen) view.log.checked = spiky([...series.values()].flat());
    const log = view.log.checked;
    const inWindow = [...series.values()].flat().reduce((a, b) => a + b, 0);
    view.chart.setAttribute('aria-label', `Line chart: ${count(inWindow)} events in the last 30 minutes, by type.`);
    const types = sortTypes([...series.keys()]);
    drawChart(view.chart, {
      type: 'line',
      data: {
        labels,
        datasets: types.map((type, i) => ({
          label: type,
          // A log axis has no zero: empty minutes become gaps, and points keep lone minutes visible.
          data: log ? series.get(type).map((n) => (n > 0 ? n : null)) : series.get(type),
          borderColor: typeColor(type, i),
          backgroundColor: typeColor(type, i),
          borderWidth: 2,
          pointRadius: log ? 2.5 : 0,
          pointHoverRadius: 4,
          tension: 0.25,
        })),
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
          y: log
            ? { type: 'logarithmic', min: 1, ticks: { callback: (v) => (Number.isInteger(Math.log10(v)) ? count(v) : '') }, title: { display: true, text: 'events / minute (log)' } }
            : { type: 'linear', beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'events / minute' } },
        },
        plugins: { legend: { position: 'bottom', display: types.length > 0 } },
      },
    });
  }

  return { refresh };
}

/**
 * The API lists only minutes that had events; the chart shows all 30, ending with the current
 * minute, zeros included. Returns x labels (local HH:MM) and one series per type.
 */
export function lastMinutes(perMinute, now) {
  const end = Math.floor(now / MINUTE) * MINUTE;
  const starts = Array.from({ length: WINDOW }, (_, i) => end - (WINDOW - 1 - i) * MINUTE);
  const slot = new Map(starts.map((start, i) => [start, i]));
  const series = new Map();
  for (const { minute, byType } of perMinute) {
    const i = slot.get(Math.floor(Date.parse(minute) / MINUTE) * MINUTE);
    if (i === undefined) continue;
    for (const [type, n] of Object.entries(byType)) {
      if (!series.has(type)) series.set(type, new Array(WINDOW).fill(0));
      series.get(type)[i] += n;
    }
  }
  const format = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  return { labels: starts.map((start) => format.format(start)), series };
}

/** One minute dwarfs the others (typically a bulk import): over 50× their median. */
function spiky(counts) {
  const busy = counts.filter((n) => n > 0).sort((a, b) => a - b);
  if (busy.length < 2) return false;
  const largest = busy.pop();
  return largest > 50 * busy[Math.floor(busy.length / 2)];
}

function sortTypes(types) {
  const rank = (type) => (TYPE_ORDER.includes(type) ? TYPE_ORDER.indexOf(type) : TYPE_ORDER.length);
  return [...types].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
