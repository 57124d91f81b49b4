/** Small DOM and formatting helpers. Text always goes in as text, never as HTML. */

/**
 * Creates an element: `h('li', { class: 'x', 'data-testid': 'y', onclick: f }, child, 'text')`.
 * `text` sets textContent; `style` takes an object of properties; `on*` adds listeners; `true` sets a boolean attribute; null/false skip.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = value;
    // Through CSSOM: the page's CSP allows no inline style attributes.
    else if (name === 'style') for (const [property, v] of Object.entries(value)) element.style.setProperty(property, v);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** The element with `data-testid="id"` inside `root`. */
export const byId = (root, id) => root.querySelector(`[data-testid="${id}"]`);

/** Shows `message` in a notice element styled by `kind` (info, error, warn, ok); '' hides it. */
export function notice(element, message, kind = 'info') {
  element.hidden = !message;
  element.textContent = message ?? '';
  element.className = `notice ${kind}`;
}

/** Notice text for a failed call: "not available" for routes this server does not have. */
export function describeError(error, what) {
  if (error?.missingRoute) return `${what} is not available on this server yet.`;
  return error?.message ?? String(error);
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** "3 minutes ago", "yesterday"; '–' for nothing. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '–';
  const seconds = (Date.parse(iso) - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return relative.format(Math.round(seconds / size), unit);
  }
  return '–';
}

/** A <time> showing "3 minutes ago" with the exact local time as its tooltip. */
export function timeAgo(iso) {
  if (!iso) return h('span', { text: '–' });
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString(), text: ago(iso) });
}

const integer = new Intl.NumberFormat('en-US');

export const count = (n) => integer.format(n);

/** Up to 4 significant digits; integers as integers. */
export function num(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value ?? '–');
  if (Number.isInteger(value)) return integer.format(value);
  return Number(value.toPrecision(4)).toString();
}

export const percent = (share) => `${(share * 100).toFixed(share >= 0.1 ? 0 : 1)}%`;

/** Replaces a container's children. */
export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}
