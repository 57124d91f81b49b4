import type { OpenApiDocument } from '../openapi.ts';
import { escapeHtml as esc, schemaText } from './schema-text.ts';

/**
 * The human-readable API reference, rendered once on the server from the OpenAPI document: plain
 * HTML plus one same-origin stylesheet, no script, so it works offline under a strict CSP.
 */
type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema: Schema;
}
interface Op {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; description?: string; content?: Record<string, { schema: Schema }> }>;
  security: Array<Record<string, string[]>>;
}

export function renderDocsPage(doc: OpenApiDocument, stylesheet: string): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op: op as Op })),
  );
  const tags = doc.tags.map((t) => t.name);
  const nav = tags
    .map((tag) => {
      const links = ops
        .filter((o) => o.op.tags[0] === tag)
        .map((o) => `<li><a href="#op-${esc(o.op.operationId)}"><span class="method ${o.method}">${o.method.toUpperCase()}</span> ${esc(o.path)}</a></li>`);
      return `<h3>${esc(tag)}</h3><ul>${links.join('')}</ul>`;
    })
    .join('\n');
  const sections = tags
    .map((tag) => `<section><h2 id="tag-${esc(tag)}">${esc(tag)}</h2>\n${ops.filter((o) => o.op.tags[0] === tag).map((o) => operation(o.path, o.method, o.op)).join('\n')}</section>`)
    .join('\n');
  const schemas = Object.entries(doc.components.schemas)
    .map(([name, schema]) => `<div class="schema" id="schema-${esc(name)}"><h3>${esc(name)}</h3>${describe(schema)}<pre>${schemaText(schema)}</pre></div>`)
    .join('\n');
  const errors = Object.entries(doc.components.responses)
    .map(([name, r]) => `<li id="response-${esc(name)}"><strong>${esc(name)}</strong>: ${inline(r.description)}</li>`)
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)} ${esc(doc.info.version)}</title>
<link rel="stylesheet" href="${esc(stylesheet)}">
</head>
<body>
<nav><p><a href="#top">${esc(doc.info.title)}</a></p>${nav}<h3><a href="#schemas">schemas</a></h3></nav>
<main id="top">
<h1>${esc(doc.info.title)} <span class="note">${esc(doc.info.version)}</span></h1>
<p>${inline(doc.info.description)}</p>
<p>The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1); the typed client is <code>import { createClient } from 'liverec/client'</code>.</p>
<h2>Errors</h2>
<p>Every error is <code>{ "error": { "code", "message", "field" } }</code> (see <a href="#schema-Error">Error</a>):</p>
<ul>${errors}</ul>
${sections}
<section><h2 id="schemas">Schemas</h2>
${schemas}
</section>
</main>
</body>
</html>
`;
}

/** Backticks become <code>; everything else is escaped. */
function inline(text: string | undefined): string {
  return esc(text ?? '').replace(/`([^`]*)`/g, '<code>$1</code>');
}

function describe(schema: Schema): string {
  return typeof schema.description === 'string' ? `<p>${inline(schema.description)}</p>` : '';
}

function auth(security: Op['security']): string {
  if (security.length === 0) return 'no key';
  if (security.some((s) => Object.keys(s).length === 0)) return 'read key, when the server has one';
  return 'API key, when the server has one';
}

function operation(path: string, method: string, op: Op): string {
  const params = op.parameters ?? [];
  const rows = params
    .map(
      (p) =>
        `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td><code>${schemaText(p.schema)}</code></td><td>${p.required ? 'yes' : ''}</td><td>${inline(p.description)}</td></tr>`,
    )
    .join('');
  const body = op.requestBody?.content['application/json']?.schema;
  const responses = Object.entries(op.responses)
    .map(([status, r]) => {
      const name = r.$ref?.split('/').pop();
      if (name) return `<li><strong>${esc(status)}</strong> <a href="#response-${esc(name)}">${esc(name)}</a></li>`;
      const schema = r.content?.['application/json']?.schema;
      return `<li><strong>${esc(status)}</strong> ${inline(r.description)}${schema ? `: <code>${schemaText(schema)}</code>` : ''}</li>`;
    })
    .join('');
  return `<article class="op" id="op-${esc(op.operationId)}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p><strong>${inline(op.summary)}</strong>${op.description ? ` ${inline(op.description)}` : ''}</p>
<p class="note">operation <code>${esc(op.operationId)}</code> · needs: ${auth(op.security)}</p>
${rows ? `<table><thead><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : ''}
${body ? `<h4>Body</h4><pre>${schemaText(body)}</pre>` : ''}
<h4>Responses</h4><ul>${responses}</ul>
</article>`;
}
