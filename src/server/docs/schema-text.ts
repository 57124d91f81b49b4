/**
 * JSON Schema as one line of TypeScript-like text for the docs page: `string[]`,
 * `'view' | 'click'`, `{ itemId: string, score: number }`, with component references as links.
 * HTML-escaped; only the shapes the API's schemas use are handled, anything else reads `any`.
 */
type Schema = Record<string, unknown>;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function schemaText(schema: Schema | undefined, depth = 0): string {
  if (schema === undefined || Object.keys(schema).length === 0) return 'any';
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop()!;
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return union.map((s) => schemaText(s, depth)).join(' | ');
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => escapeHtml(JSON.stringify(v))).join(' | ');
  if ('const' in schema) return escapeHtml(JSON.stringify(schema.const));
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  return types.map((type) => single(type, schema, depth)).join(' | ') + constraints(schema);
}

function single(type: string | undefined, schema: Schema, depth: number): string {
  switch (type) {
    case 'array': {
      if (Array.isArray(schema.prefixItems)) return `[${(schema.prefixItems as Schema[]).map((s) => schemaText(s, depth)).join(', ')}]`;
      const item = schemaText(schema.items as Schema | undefined, depth);
      return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
    }
    case 'object': {
      const properties = schema.properties as Record<string, Schema> | undefined;
      if (!properties) return `{ [key: string]: ${schemaText(schema.additionalProperties as Schema | undefined, depth)} }`;
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const pad = '  '.repeat(depth + 1);
      const lines = Object.entries(properties).map(([name, s], i, all) => {
        const comma = i < all.length - 1 ? ',' : '';
        const note = typeof s.description === 'string' ? `  <span class="note">// ${escapeHtml(s.description)}</span>` : '';
        return `${pad}${escapeHtml(name)}${required.has(name) ? '' : '?'}: ${schemaText(s, depth + 1)}${comma}${note}`;
      });
      return `{\n${lines.join('\n')}\n${'  '.repeat(depth)}}`;
    }
    case undefined:
      return 'any';
    default:
      return escapeHtml(type);
  }
}

/** Bounds and formats, as a short suffix: `string (1–256 chars)`, `number (0–1)`. */
function constraints(schema: Schema): string {
  const notes: string[] = [];
  // Integers carry the safe-integer bounds, which say nothing a reader needs.
  const bound = (v: unknown) => (v === Number.MAX_SAFE_INTEGER || v === Number.MIN_SAFE_INTEGER ? undefined : v);
  const range = (lo: unknown, hi: unknown, unit: string) => {
    lo = bound(lo);
    hi = bound(hi);
    if (lo !== undefined && hi !== undefined) notes.push(`${lo}–${hi}${unit}`);
    else if (lo !== undefined) notes.push(`≥ ${lo}${unit}`);
    else if (hi !== undefined) notes.push(`≤ ${hi}${unit}`);
  };
  range(schema.minLength, schema.maxLength, ' chars');
  range(schema.minimum, schema.maximum, '');
  range(schema.minItems, schema.maxItems, ' entries');
  if (typeof schema.format === 'string') notes.push(schema.format);
  return notes.length > 0 ? ` <span class="note">(${escapeHtml(notes.join(', '))})</span>` : '';
}
