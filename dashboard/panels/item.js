/** Item lookup: one catalog item (GET /v1/items/:id) and its nearest items (GET …/similar). */
import { api, seg, titlesOf } from '../lib/api.js';
import { byId, describeError, fill, h, notice, num, timeAgo } from '../lib/dom.js';

const N = 10;

export function itemPanel(root, { onShown }) {
  const view = {
    form: byId(root, 'item-form'),
    input: byId(root, 'item-id'),
    message: byId(root, 'item-message'),
    result: byId(root, 'item-result'),
    name: byId(root, 'item-name'),
    meta: byId(root, 'item-meta'),
    categories: byId(root, 'item-categories'),
    similar: byId(root, 'similar-items'),
  };
  let lookups = 0;

  async function lookup(rawId) {
    const itemId = rawId.trim();
    if (!itemId) return;
    view.input.value = itemId;
    const lookupNumber = ++lookups;
    root.setAttribute('aria-busy', 'true');
    const [item, similar] = await Promise.allSettled([
      api(`/v1/items/${seg(itemId)}`),
      api(`/v1/items/${seg(itemId)}/similar?n=${N}`),
    ]);
    if (lookupNumber !== lookups) return;
    root.removeAttribute('aria-busy');
    if (item.status === 'rejected') {
      view.result.hidden = true;
      const unknown = item.reason?.status === 404;
      notice(view.message, unknown ? `No item “${itemId}” in the catalog.` : describeError(item.reason, 'Item lookup'), 'error');
      return;
    }
    notice(view.message, '');
    view.result.hidden = false;
    renderItem(item.value);
    await renderSimilar(similar);
    onShown?.(itemId);
  }

  function renderItem(item) {
    view.name.textContent = item.title || `Item ${item.itemId}`;
    fill(
      view.meta,
      h('span', { class: 'id', text: `#${item.itemId}` }),
      h('span', { class: `badge ${item.available ? 'ok' : 'error'}`, 'data-testid': 'item-availability', text: item.available ? 'Available' : 'Retired' }),
      h('span', { class: 'hint' }, 'updated ', timeAgo(item.updatedAt)),
    );
    fill(view.categories, item.categories?.length
      ? item.categories.map((c) => h('li', { class: 'chip', text: c }))
      : h('li', { class: 'hint', text: 'No categories' }));
  }

  async function renderSimilar(result) {
    if (result.status === 'rejected') {
      fill(view.similar, h('li', { class: 'hint', text: describeError(result.reason, 'Similar items') }));
      return;
    }
    const similar = result.value.similar;
    if (!similar.length) {
      fill(view.similar, h('li', { class: 'hint', text: 'No similar items yet: this item is not in the model (it learns from feedback and retrains).' }));
      return;
    }
    const titles = await titlesOf(similar.map((s) => s.itemId));
    const top = Math.max(...similar.map((s) => Math.abs(s.score))) || 1;
    fill(view.similar, similar.map((s) =>
      h('li', { 'data-testid': 'similar-item', 'data-item-id': s.itemId },
        h('button', { type: 'button', class: 'link', title: 'Look this item up', onclick: () => lookup(s.itemId), text: titles.get(s.itemId) }),
        h('span', { class: 'score-bar', 'aria-hidden': 'true' }, h('span', { style: { width: `${Math.max(4, (Math.abs(s.score) / top) * 100)}%` } })),
        h('span', { class: 'score', title: 'Similarity', text: num(s.score) }),
      ),
    ));
  }

  view.form.addEventListener('submit', (event) => {
    event.preventDefault();
    lookup(view.input.value);
  });

  return { lookup };
}
