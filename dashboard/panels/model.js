/** Model panel: what is serving, how it was trained, retraining (GET /v1/model, POST /v1/model/train). */
import { api } from '../lib/api.js';
import { ago, byId, describeError, fill, h, notice, num } from '../lib/dom.js';

const STATUS = {
  ready: { text: 'Ready', kind: 'ok' },
  training: { text: 'Training…', kind: 'warn' },
  empty: { text: 'No model yet', kind: 'muted' },
};

/** What a running retrain is doing (`training.phase` from GET /v1/model). */
const PHASES = {
  starting: 'starting the training thread',
  fitting: 'fitting',
  saving: 'saving the model',
};

/** `onNewVersion(version)` runs when a different model starts serving (e.g. a retrain finished). */
export function modelPanel(root, { onNewVersion, onMissingKey }) {
  const view = {
    status: byId(root, 'model-status'),
    version: byId(root, 'model-version'),
    algorithm: byId(root, 'model-algorithm'),
    trained: byId(root, 'model-trained'),
    training: byId(root, 'model-training'),
    trainingText: byId(root, 'model-training-text'),
    progress: root.querySelector('progress'),
    params: byId(root, 'model-params'),
    metrics: byId(root, 'model-metrics'),
    retrain: byId(root, 'retrain'),
    message: byId(root, 'model-message'),
  };
  let version;

  async function refresh() {
    try {
      const info = await api('/v1/model');
      render(info);
      if (version !== undefined && info.version !== version) {
        notice(view.message, `Model version ${info.version} is now serving.`, 'ok');
        onNewVersion?.(info.version);
      }
      version = info.version;
    } catch (error) {
      view.status.textContent = 'Unknown';
      view.status.className = 'badge error';
      notice(view.message, describeError(error, 'Model status'), 'error');
    }
  }

  function render(info) {
    const status = STATUS[info.status] ?? { text: info.status, kind: 'muted' };
    view.status.textContent = status.text;
    view.status.className = `badge ${status.kind}`;
    view.version.textContent = info.version === null ? '–' : `v${info.version}`;
    view.algorithm.textContent = info.algorithm ?? '–';
    fill(view.trained, info.trainedAt ? h('time', { datetime: info.trainedAt, title: new Date(info.trainedAt).toLocaleString(), text: ago(info.trainedAt) }) : h('span', { text: 'never' }));
    renderTraining(info.training);
    const params = Object.entries(info.params ?? {});
    fill(view.params, params.length ? params.map(([name, value]) => h('li', { class: 'chip' }, h('span', { class: 'chip-key', text: name }), ` ${formatParam(value)}`)) : h('li', { class: 'hint', text: 'defaults' }));
    renderMetrics(info.metrics ?? {});
    view.retrain.disabled = info.status === 'training';
  }

  function renderMetrics(metrics) {
    const entries = Object.entries(metrics).filter(([, value]) => typeof value === 'number' || typeof value === 'string');
    view.metrics.previousElementSibling.hidden = entries.length === 0;
    fill(view.metrics, entries.map(([name, value]) => h('li', { class: 'chip' }, ...metricText(name, value))));
  }

  /** Indeterminate unless the server reports a fraction done (`training.progress`, 0–1). */
  function renderTraining(training) {
    view.training.hidden = !training;
    if (!training) return;
    if (typeof training.progress === 'number') view.progress.value = training.progress;
    else view.progress.removeAttribute('value');
    const phase = training.phase ? ` · ${PHASES[training.phase] ?? training.phase}` : '';
    const done = typeof training.progress === 'number' ? ` · ${Math.round(training.progress * 100)}% done` : '';
    view.trainingText.textContent = `Job ${training.jobId} started ${ago(training.startedAt)}${phase}${done}. The current model keeps serving until the new one is ready.`;
  }

  async function retrain() {
    view.retrain.disabled = true;
    try {
      const { jobId } = await api('/v1/model/train', { method: 'POST', write: true });
      notice(view.message, `Retrain started (job ${jobId}).`, 'info');
      await refresh();
    } catch (error) {
      notice(view.message, describeError(error, 'Retraining'), 'error');
      if (error.name === 'MissingKeyError') onMissingKey?.();
      view.retrain.disabled = false;
    }
  }

  view.retrain.addEventListener('click', retrain);
  return { refresh };
}

/** `fitSeconds: 2.84` → "fit 2.84 s"; `users: 610` → "610 users". */
function metricText(name, value) {
  if (name === 'fitSeconds' && typeof value === 'number') return [h('span', { class: 'chip-key', text: 'fit' }), ` ${value.toFixed(1)} s`];
  if (typeof value === 'number') return [`${num(value)} `, h('span', { class: 'chip-key', text: name })];
  return [h('span', { class: 'chip-key', text: name }), ` ${value}`];
}

function formatParam(value) {
  if (typeof value === 'number') return num(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
