/**
 * liverec dashboard: wires the panels together, keeps the API key, polls what changes on its
 * own (model status, live events) and remembers the looked-up user and item in the URL hash.
 */
import { adoptKeyFromUrl, api, keys } from './lib/api.js';
import { setupCharts } from './lib/charts.js';
import { count } from './lib/dom.js';
import { evaluationsPanel } from './panels/evaluations.js';
import { eventsPanel } from './panels/events.js';
import { itemPanel } from './panels/item.js';
import { modelPanel } from './panels/model.js';
import { segmentsPanel } from './panels/segments.js';
import { userPanel } from './panels/user.js';

const POLL_MS = 5_000;
const panel = (id) => document.getElementById(id);

adoptKeyFromUrl();
setupCharts();
const keyField = setupKeyForm();

const item = itemPanel(panel('item-panel'), { onShown: (id) => remember('item', id) });
const user = userPanel(panel('user-panel'), {
  onItem: (id) => {
    item.lookup(id);
    panel('item-panel').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  },
  onMissingKey: keyField.focus,
  onShown: (id) => remember('user', id),
});
const segments = segmentsPanel(panel('segments-panel'), {
  onUser: (id) => {
    user.lookup(id);
    panel('user-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
  },
});
const evaluations = evaluationsPanel(panel('evaluations-panel'));
const events = eventsPanel(panel('events-panel'));
const model = modelPanel(panel('model-panel'), {
  onMissingKey: keyField.focus,
  // Segments and offline results belong to a model: refresh them when another one serves.
  onNewVersion: () => {
    segments.refresh();
    evaluations.refresh();
  },
});

poll(() => Promise.all([model.refresh(), events.refresh(), health()]));
segments.refresh();
evaluations.refresh();
restoreFromHash();

/** The header's API key field: kept in sessionStorage (this tab only), never in the URL. */
function setupKeyForm() {
  const form = document.getElementById('key-form');
  const input = document.getElementById('api-key');
  const state = document.getElementById('key-state');
  const show = () => {
    state.textContent = keys.write ? 'saved for this tab' : 'not set';
    input.placeholder = keys.write ? '•••••••• (saved)' : 'needed to retrain and post feedback';
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    keys.setWrite(input.value.trim());
    input.value = '';
    show();
  });
  document.getElementById('api-key-forget').addEventListener('click', () => {
    keys.setWrite('');
    input.value = '';
    show();
  });
  show();
  return { focus: () => input.focus() };
}

/** The header's one-line server status, from /health (which never needs a key). */
async function health() {
  const element = document.getElementById('health');
  try {
    const status = await api('/health');
    element.className = 'health ok';
    element.textContent = `Live · ${count(status.items)} items · ${count(status.feedback)} events`;
    if (status.warnings?.length) element.title = status.warnings.join('\n');
  } catch {
    element.className = 'health error';
    element.textContent = 'Server unreachable';
  }
}

/** Runs `task` now and then every POLL_MS while the tab is visible, never two at once. */
function poll(task) {
  let timer = null;
  const tick = async () => {
    clearTimeout(timer);
    try {
      await task();
    } finally {
      timer = document.hidden ? null : setTimeout(tick, POLL_MS);
    }
  };
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && timer === null) tick();
  });
  tick();
}

/** `#user=1&item=2571`: a reload or a shared link shows the same lookups. */
function remember(name, value) {
  const state = new URLSearchParams(location.hash.slice(1));
  state.set(name, value);
  history.replaceState(history.state, '', `#${state}`);
}

function restoreFromHash() {
  const state = new URLSearchParams(location.hash.slice(1));
  if (state.get('user')) user.lookup(state.get('user'));
  if (state.get('item')) item.lookup(state.get('item'));
}
