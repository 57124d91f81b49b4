/**
 * Segment map: users' vectors projected to 2-D (PCA in the WebAssembly core), coloured by
 * k-means segment (GET /v1/segments/map). Clicking a point looks that user up.
 */
import { api } from '../lib/api.js';
import { chartsAvailable, clearChart, drawChart, PALETTE } from '../lib/charts.js';
import { byId, count, describeError, fill, h, notice, percent } from '../lib/dom.js';

export function segmentsPanel(root, { onUser }) {
  const view = {
    chart: byId(root, 'segments-chart'),
    meta: byId(root, 'segments-meta'),
    help: byId(root, 'segments-help'),
    message: byId(root, 'segments-message'),
    refresh: byId(root, 'segments-refresh'),
  };
  const legend = h('ul', { class: 'legend', 'data-testid': 'segments-legend', 'aria-label': 'Segments (toggle to show or hide)' });
  view.chart.parentElement.after(legend);

  async function refresh() {
    let map;
    try {
      map = await api('/v1/segments/map');
    } catch (error) {
      showEmpty(describeError(error, 'The segment map'), error.missingRoute ? 'muted' : 'error');
      return;
    }
    if (!map.points?.length) {
      showEmpty('No segments yet: they are computed at each retrain of a factor model.', 'muted');
      return;
    }
    notice(view.message, chartsAvailable() ? '' : 'Charts could not be loaded.', 'warn');
    view.chart.parentElement.hidden = false;
    view.help.hidden = false;
    render(map);
  }

  function showEmpty(message, kind) {
    clearChart(view.chart);
    view.chart.parentElement.hidden = true;
    view.help.hidden = true;
    view.meta.textContent = '';
    fill(legend);
    notice(view.message, message, kind);
  }

  function render({ segments, points, explained }) {
    const groups = groupBySegment(segments, points);
    const [pc1, pc2] = explained ?? [];
    view.meta.textContent = `${count(points.length)} users · ${segments.length} segments`;
    const chart = drawChart(view.chart, {
      type: 'scatter',
      data: {
        datasets: groups.map((g, i) => ({
          label: g.label,
          data: g.points,
          backgroundColor: `${PALETTE[i % PALETTE.length]}b3`,
          borderColor: PALETTE[i % PALETTE.length],
          borderWidth: 0.5,
          pointRadius: points.length > 1000 ? 2.5 : 3.5,
          pointHoverRadius: 6,
        })),
      },
      options: {
        parsing: false,
        onClick: (_event, elements, c) => {
          const hit = elements[0];
          if (hit) onUser?.(c.data.datasets[hit.datasetIndex].data[hit.index].userId);
        },
        onHover: (event, elements) => {
          event.native.target.style.cursor = elements.length ? 'pointer' : 'default';
        },
        scales: {
          x: { title: { display: true, text: axisTitle('PC 1', pc1) }, ticks: { display: false }, grid: { color: '#f1f5f9' } },
          y: { title: { display: true, text: axisTitle('PC 2', pc2) }, ticks: { display: false }, grid: { color: '#f1f5f9' } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => `user ${ctx.raw.userId} · ${ctx.dataset.label}` } },
        },
      },
    });
    renderLegend(groups, chart);
  }

  /** An HTML legend (readable by screen readers); each entry toggles its segment. */
  function renderLegend(groups, chart) {
    fill(legend, groups.map((g, i) => {
      const button = h('button', { type: 'button', class: 'legend-item', 'aria-pressed': 'true' },
        h('span', { class: 'swatch', style: { '--swatch': PALETTE[i % PALETTE.length] }, 'aria-hidden': 'true' }),
        h('span', { text: g.label }),
        h('span', { class: 'hint', text: ` ${count(g.size)}` }),
      );
      button.addEventListener('click', () => {
        if (!chart) return;
        const visible = !chart.isDatasetVisible(i);
        chart.setDatasetVisibility(i, visible);
        chart.update();
        button.setAttribute('aria-pressed', String(visible));
      });
      return h('li', {}, button);
    }));
  }

  view.refresh.addEventListener('click', refresh);
  return { refresh };
}

/**
 * One group per segment, largest first as the API lists them; unknown ids go last. Labels
 * (top categories) can repeat across segments, so repeated ones get the segment's id.
 */
function groupBySegment(segments, points) {
  const uses = new Map();
  for (const s of segments) uses.set(s.label, (uses.get(s.label) ?? 0) + 1);
  const label = (s) => (!s.label ? `Segment ${s.id}` : uses.get(s.label) > 1 ? `${s.label} · #${s.id}` : s.label);
  const groups = new Map(segments.map((s) => [s.id, { label: label(s), size: s.size, points: [] }]));
  for (const p of points) {
    if (!groups.has(p.segment)) groups.set(p.segment, { label: `Segment ${p.segment}`, size: 0, points: [] });
    groups.get(p.segment).points.push({ x: p.x, y: p.y, userId: p.userId });
  }
  return [...groups.values()].filter((g) => g.points.length > 0);
}

const axisTitle = (name, share) => (typeof share === 'number' && share > 0 ? `${name} · ${percent(share)} of variance` : name);
