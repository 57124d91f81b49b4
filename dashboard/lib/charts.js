/**
 * Chart.js, loaded as a classic script before the modules (window.Chart). Every chart is
 * created once per canvas and then updated in place, so polling does not flicker.
 */
const Chart = () => globalThis.Chart;

export const chartsAvailable = () => typeof Chart() === 'function';

/** Colour per feedback type, fixed so a type keeps its colour across charts and reloads. */
export const TYPE_COLORS = {
  view: '#64748b',
  click: '#0284c7',
  cart: '#d97706',
  purchase: '#059669',
  like: '#7c3aed',
  dislike: '#dc2626',
  rating: '#db2777',
};

/** Distinct, colour-blind-friendly enough for up to ten segments. */
export const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#db2777', '#ca8a04', '#4b5563', '#65a30d', '#be123c'];

export function typeColor(type, index) {
  return TYPE_COLORS[type] ?? PALETTE[index % PALETTE.length];
}

export function setupCharts() {
  if (!chartsAvailable()) return;
  const defaults = Chart().defaults;
  defaults.font.family = getComputedStyle(document.body).fontFamily;
  defaults.font.size = 12;
  defaults.color = '#374151';
  defaults.borderColor = '#e5e7eb';
  defaults.maintainAspectRatio = false;
  defaults.plugins.legend.labels.boxWidth = 12;
  defaults.plugins.legend.labels.boxHeight = 12;
  if (matchMedia('(prefers-reduced-motion: reduce)').matches) defaults.animation = false;
}

/** Creates the chart on `canvas`, or updates the existing one with new data and options. */
export function drawChart(canvas, config) {
  if (!chartsAvailable()) return null;
  const existing = Chart().getChart(canvas);
  if (existing && existing.config.type === config.type) {
    existing.data = config.data;
    existing.options = config.options ?? {};
    existing.update('none');
    return existing;
  }
  existing?.destroy();
  return new (Chart())(canvas, config);
}

export function clearChart(canvas) {
  if (chartsAvailable()) Chart().getChart(canvas)?.destroy();
}
