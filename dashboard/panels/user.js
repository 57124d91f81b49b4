/**
 * User lookup: the living profile (GET /v1/users/:id/profile), recommendations with their
 * explanations (GET …/recommendations?explain=true), and a test feedback (POST /v1/feedback)
 * whose answer re-ranks the list on screen, with what changed highlighted.
 */
import { api, seg, titlesOf } from '../lib/api.js';
import { clearChart, drawChart, PALETTE } from '../lib/charts.js';
import { byId, count, describeError, fill, h, notice, num, percent, timeAgo } from '../lib/dom.js';

const N = 10;
const TOP_CATEGORIES = 8;

export function userPanel(root, { onItem, onMissingKey, onShown }) {
  const view = {
    form: byId(root, 'user-form'),
    input: byId(root, 'user-id'),
    message: byId(root, 'user-message'),
    result: byId(root, 'user-result'),
    facts: byId(root, 'profile-facts'),
    chart: byId(root, 'categories-chart'),
    categoriesText: byId(root, 'categories-text'),
    drift: byId(root, 'profile-drift'),
    activity: byId(root, 'profile-activity'),
    flags: byId(root, 'profile-flags'),
    list: byId(root, 'recommendations'),
    meta: byId(root, 'recs-meta'),
    changes: byId(root, 'recs-changes'),
    feedbackForm: byId(root, 'feedback-form'),
    feedbackItem: byId(root, 'feedback-item'),
    feedbackType: byId(root, 'feedback-type'),
    feedbackValue: byId(root, 'feedback-value'),
    feedbackValueLabel: byId(root, 'feedback-value-label'),
    feedbackSubmit: byId(root, 'feedback-submit'),
    feedbackMessage: byId(root, 'feedback-message'),
  };
  /** The user on screen and the list as shown, to diff the next one against. */
  let current = null;
  let lookups = 0;

  async function lookup(rawId) {
    const userId = rawId.trim();
    if (!userId) return;
    view.input.value = userId;
    const lookupNumber = ++lookups;
    notice(view.message, '');
    notice(view.feedbackMessage, '');
    view.changes.hidden = true;
    root.setAttribute('aria-busy', 'true');
    const [profile, recs] = await Promise.allSettled([
      api(`/v1/users/${seg(userId)}/profile`),
      api(`/v1/users/${seg(userId)}/recommendations?n=${N}&explain=true`),
    ]);
    if (lookupNumber !== lookups) return; // a newer lookup started meanwhile
    root.removeAttribute('aria-busy');
    if (recs.status === 'rejected') {
      view.result.hidden = true;
      current = null;
      notice(view.message, describeError(recs.reason, 'Recommendations'), 'error');
      return;
    }
    view.result.hidden = false;
    current = { userId, recommendations: recs.value.recommendations };
    renderProfileResult(profile, userId);
    await renderRecommendations(recs.value);
    resetFeedbackItem();
    onShown?.(userId);
  }

  function renderProfileResult(result, userId) {
    if (result.status === 'fulfilled') return renderProfile(result.value);
    const unknown = result.reason?.status === 404;
    notice(
      view.message,
      unknown ? `User ${userId} has no history yet: the list shows popular items until their first feedback.` : describeError(result.reason, 'The profile'),
      unknown ? 'info' : 'error',
    );
    fill(view.facts);
    fill(view.drift);
    fill(view.activity);
    fill(view.flags);
    view.categoriesText.textContent = '';
    clearChart(view.chart);
  }

  async function refreshProfile() {
    try {
      renderProfile(await api(`/v1/users/${seg(current.userId)}/profile`));
    } catch {
      // The list is what the feedback answered with; a stale profile is not worth an error.
    }
  }

  function renderProfile(profile) {
    fill(
      view.facts,
      fact('Segment', profile.segment ? h('span', { class: 'badge info', 'data-testid': 'profile-segment', text: profile.segment.label || `#${profile.segment.id}` }) : '–'),
      fact('Interactions', count(profile.interactions)),
      fact('First seen', timeAgo(profile.firstSeen)),
      fact('Last seen', timeAgo(profile.lastSeen)),
      fact('Profile updated', timeAgo(profile.updatedAt)),
    );
    renderCategories(profile.topCategories ?? []);
    renderDrift(profile.drift);
    renderActivity(profile.activity);
    renderFlags(profile.flags ?? []);
  }

  function renderCategories(categories) {
    const top = categories.slice(0, TOP_CATEGORIES);
    view.categoriesText.textContent = top.length
      ? top.map((c) => `${c.category} ${percent(c.weight)}`).join(' · ')
      : 'No category interests yet.';
    if (!top.length) return clearChart(view.chart);
    drawChart(view.chart, {
      type: 'bar',
      data: {
        labels: top.map((c) => c.category),
        datasets: [{ label: 'interest', data: top.map((c) => c.weight * 100), backgroundColor: PALETTE[0], borderRadius: 3, maxBarThickness: 18 }],
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { beginAtZero: true, ticks: { callback: (v) => `${v}%` }, grid: { color: '#f1f5f9' } },
          y: { grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => `${ctx.parsed.x.toFixed(1)}% of decayed interest` } },
        },
      },
    });
  }

  function renderDrift(drift) {
    if (!drift) {
      fill(view.drift, h('p', { class: 'hint', text: 'Nothing to compare yet (no vector from the last retrain).' }));
      return;
    }
    const size = drift.distance < 0.05 ? 'barely moved' : drift.distance < 0.2 ? 'moved a little' : 'moved a lot';
    fill(
      view.drift,
      h('p', { class: 'drift-line' },
        h('strong', { 'data-testid': 'drift-distance', text: num(drift.distance) }),
        h('span', { class: 'hint', text: ` cosine distance · ${size}` }),
        h('meter', { min: 0, max: 1, low: 0.05, high: 0.2, optimum: 0, value: Math.min(1, drift.distance), 'aria-label': 'drift distance' }),
      ),
      categoryChanges('Grew', drift.grew ?? [], 'up'),
      categoryChanges('Shrank', drift.shrank ?? [], 'down'),
    );
  }

  function categoryChanges(label, changes, direction) {
    if (!changes.length) return null;
    return h('p', { class: 'drift-changes' },
      h('span', { class: 'drift-label', text: `${label}:` }),
      changes.map((c) => h('span', { class: `chip ${direction}`, text: `${direction === 'up' ? '▲' : '▼'} ${c.category} ${percent(Math.abs(c.weight))}` })),
    );
  }

  function renderActivity(activity) {
    const week = activity?.last7Days ?? {};
    const month = activity?.last30Days ?? {};
    const types = [...new Set([...Object.keys(month), ...Object.keys(week)])];
    if (!types.length) {
      fill(view.activity, h('p', { class: 'hint', text: 'No events in the last 30 days.' }));
      return;
    }
    fill(view.activity, h('table', { class: 'compact' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Type' }), h('th', { scope: 'col', class: 'num', text: '7 days' }), h('th', { scope: 'col', class: 'num', text: '30 days' }))),
      h('tbody', {}, types.map((t) => h('tr', {}, h('th', { scope: 'row', text: t }), h('td', { class: 'num', text: count(week[t] ?? 0) }), h('td', { class: 'num', text: count(month[t] ?? 0) })))),
    ));
  }

  function renderFlags(flags) {
    fill(view.flags, flags.length
      ? h('div', { class: 'notice warn', 'data-testid': 'profile-flagged' },
          h('strong', { text: 'Quarantined. ' }),
          flags.map((f) => h('span', {}, `${f.reason} (`, timeAgo(f.at), ') ')),
          'Events are stored but not learned from until the user is unflagged.')
      : null);
  }

  /** Renders the list; `changes` (from compare) marks new and moved items. */
  async function renderRecommendations({ recommendations, modelVersion }, changes) {
    const ids = recommendations.flatMap((r) => [r.itemId, ...(Array.isArray(r.because) ? r.because : []).filter((b) => b.itemId !== undefined).map((b) => b.itemId)]);
    const titles = await titlesOf(ids);
    // An older server ignores explain=true: say so once rather than on every row.
    const explained = recommendations.some((r) => r.because !== undefined);
    view.meta.textContent = [
      modelVersion === null ? '· popular items (no model yet)' : `· model v${modelVersion}`,
      explained || !recommendations.length ? '' : ' · this server sends no explanations',
    ].join('');
    fill(view.list, recommendations.map((rec, i) => recommendationItem(rec, i, titles, changes?.changes[i], explained)));
    if (!recommendations.length) fill(view.list, h('li', { class: 'hint', text: 'Nothing to recommend: every available item is already known to this user.' }));
  }

  function recommendationItem(rec, index, titles, change, explained) {
    const title = titles.get(rec.itemId);
    return h('li', { class: `rec ${change?.kind ?? ''}`, 'data-testid': 'recommendation', 'data-item-id': rec.itemId },
      h('span', { class: 'rank', 'aria-hidden': 'true', text: index + 1 }),
      h('div', { class: 'rec-main' },
        h('div', { class: 'rec-head' },
          h('button', { type: 'button', class: 'link rec-title', 'data-testid': 'rec-title', title: 'Show this item in Item lookup', onclick: () => onItem?.(rec.itemId), text: title }),
          h('span', { class: 'id', text: `#${rec.itemId}` }),
          changeBadge(change),
        ),
        explained ? because(rec.because, titles) : null,
      ),
      h('div', { class: 'rec-side' },
        h('span', { class: 'score', title: 'Score', text: num(rec.score) }),
        h('button', { type: 'button', class: 'secondary small', 'data-testid': 'rec-use', 'aria-label': `Use ${title} for test feedback`, onclick: () => useForFeedback(rec.itemId), text: 'Use' }),
      ),
    );
  }

  /** `contributions`: undefined when the server sent none; 'pending' while being fetched. */
  function because(contributions, titles) {
    const note = (text) => h('p', { class: 'because hint', 'data-testid': 'because', text });
    if (contributions === 'pending') return note('Loading the explanation…');
    if (contributions === undefined) return note('No explanation for this item.');
    if (!contributions.length) return note('Popular pick: no personal signal behind it.');
    // Item reasons are the model's; category reasons come from a short history's blend and are
    // already shares of the score.
    const items = contributions.filter((c) => c.itemId !== undefined);
    const interests = contributions.filter((c) => c.category !== undefined);
    const total = items.reduce((sum, c) => sum + Math.abs(c.weight), 0) || 1;
    return h('p', { class: 'because', 'data-testid': 'because' },
      items.length ? h('span', { class: 'because-label', text: 'Because of' }) : null,
      items.map((c) => {
        const share = `${c.weight < 0 ? '−' : ''}${percent(Math.abs(c.weight) / total)}`;
        const effect = c.weight < 0 ? 'pulled the score down' : 'pushed the score up';
        return h('span', { class: `because-item ${c.weight < 0 ? 'negative' : ''}`, title: `${effect}: contribution ${num(c.weight)}` },
          titles.get(c.itemId) ?? c.itemId, h('span', { class: 'share', text: ` ${share}` }));
      }),
      interests.length ? h('span', { class: 'because-label', text: 'Interest in' }) : null,
      interests.map((c) => h('span', { class: 'because-interest', 'data-testid': 'because-category', title: `share of the score from this interest (short history): ${percent(c.weight)}` },
        c.category, h('span', { class: 'share', text: ` ${percent(c.weight)}` }))),
    );
  }

  /** Fetches explanations for the list on screen and fills them in where the item still is. */
  async function fillExplanations() {
    const userId = current.userId;
    let result;
    try {
      result = await api(`/v1/users/${seg(userId)}/recommendations?n=${N}&explain=true`);
    } catch {
      return;
    }
    if (current?.userId !== userId) return;
    if (!result.recommendations.some((r) => r.because !== undefined)) {
      view.list.querySelectorAll('[data-testid="because"]').forEach((note) => note.remove());
      view.meta.textContent += ' · this server sends no explanations';
      return;
    }
    const reasons = new Map(result.recommendations.map((r) => [r.itemId, r.because]));
    const titles = await titlesOf([...reasons.values()].flat().filter(Boolean).map((b) => b.itemId));
    for (const li of view.list.querySelectorAll('[data-testid="recommendation"]')) {
      const old = li.querySelector('[data-testid="because"]');
      const reason = reasons.get(li.dataset.itemId);
      if (old) old.replaceWith(because(reason, titles));
    }
  }

  async function postFeedback(event) {
    event.preventDefault();
    if (!current) return;
    const itemId = view.feedbackItem.value.trim();
    const type = view.feedbackType.value;
    const body = { userId: current.userId, itemId, type };
    if (type === 'rating') body.value = Number(view.feedbackValue.value);
    view.feedbackSubmit.disabled = true;
    notice(view.feedbackMessage, 'Posting…', 'info');
    try {
      const result = await api(`/v1/feedback?n=${N}`, { method: 'POST', body, write: true });
      const changes = compare(current.recommendations, result.recommendations);
      current = { userId: current.userId, recommendations: result.recommendations };
      const [title] = (await titlesOf([itemId])).values();
      notice(view.feedbackMessage, feedbackOutcome(result, type, title), result.quarantined ? 'warn' : 'ok');
      // The answer carries the new list without explanations; they are fetched right after.
      const pending = result.recommendations.map((r) => ({ ...r, because: r.because ?? 'pending' }));
      await renderRecommendations({ ...result, recommendations: pending }, changes);
      await showChanges(changes, type, title);
      resetFeedbackItem();
      await Promise.all([fillExplanations(), refreshProfile()]);
    } catch (error) {
      notice(view.feedbackMessage, describeError(error, 'Posting feedback'), 'error');
      if (error.name === 'MissingKeyError') onMissingKey?.();
    } finally {
      view.feedbackSubmit.disabled = false;
    }
  }

  async function showChanges({ changes, dropped }, type, title) {
    const tally = (kind) => changes.filter((c) => c.kind === kind).length;
    const droppedTitles = [...(await titlesOf(dropped)).values()].map((t) => `“${t}”`);
    const parts = [
      tally('new') && `${tally('new')} new`,
      tally('up') && `${tally('up')} moved up`,
      tally('down') && `${tally('down')} moved down`,
      dropped.length && `dropped out: ${droppedTitles.join(', ')}`,
    ].filter(Boolean);
    view.changes.hidden = false;
    view.changes.textContent = `After ${type} of “${title}”: ${parts.length ? parts.join('; ') : 'the list did not change'}.`;
  }

  function useForFeedback(itemId) {
    view.feedbackItem.value = itemId;
    view.feedbackType.focus();
  }

  /** Suggests the top recommendation, unless the user is typing an id of their own. */
  function resetFeedbackItem() {
    if (document.activeElement === view.feedbackItem) return;
    view.feedbackItem.value = current?.recommendations[0]?.itemId ?? '';
  }

  view.form.addEventListener('submit', (event) => {
    event.preventDefault();
    lookup(view.input.value);
  });
  view.feedbackForm.addEventListener('submit', postFeedback);
  view.feedbackType.addEventListener('change', () => {
    view.feedbackValueLabel.hidden = view.feedbackType.value !== 'rating';
  });

  return { lookup };
}

function fact(label, value) {
  return h('div', {}, h('dt', { text: label }), h('dd', {}, value));
}

function changeBadge(change) {
  if (!change || change.kind === 'same') return null;
  const text = change.kind === 'new' ? 'new' : `${change.kind === 'up' ? '▲' : '▼'} ${change.by}`;
  const label = change.kind === 'new' ? 'new in the list' : `moved ${change.kind} ${change.by}`;
  return h('span', { class: `change ${change.kind}`, 'data-testid': 'rec-change', title: label, 'aria-label': label, text });
}

function feedbackOutcome(result, type, title) {
  if (result.duplicates > 0) return `That exact event was already stored: nothing changed.`;
  if (result.quarantined) return `Stored ${type} of “${title}”, but this user is quarantined: it is not learned from.`;
  return `Stored ${type} of “${title}”; the profile was re-solved in the same request.`;
}

/** How `next` differs from `previous`: per position new / up / down / same, and what dropped out. */
export function compare(previous, next) {
  const before = new Map(previous.map((r, i) => [r.itemId, i]));
  const kept = new Set(next.map((r) => r.itemId));
  const changes = next.map((r, i) => {
    const was = before.get(r.itemId);
    if (was === undefined) return { kind: 'new' };
    if (was === i) return { kind: 'same' };
    return { kind: was > i ? 'up' : 'down', by: Math.abs(was - i) };
  });
  return { changes, dropped: previous.filter((r) => !kept.has(r.itemId)).map((r) => r.itemId) };
}
