import { describe, expect, it } from 'vitest';
import { operations } from '../../src/server/api.ts';
import { createApp } from '../../src/server/app.ts';
import { FakeEngine } from './fake-engine.ts';

/** GET /docs and GET /openapi.json: served by the app itself, offline, under a strict CSP. */
describe('API docs', () => {
  const app = createApp(new FakeEngine(), { apiKey: 'k', readKey: 'r' });

  it('serves the OpenAPI document without a key', async () => {
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/users/{userId}/recommendations');
  });

  it('serves an HTML page that loads only same-origin assets, each of which is served', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    // No inline script or style for the CSP to block, no handlers.
    expect(html).not.toMatch(/<script|<style|\sstyle=|\son\w+=/i);
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    const assets = urls.filter((url) => !url.startsWith('#'));
    expect(assets.length).toBeGreaterThan(0);
    for (const url of assets) {
      expect(url, 'same-origin path').toMatch(/^\/(?!\/)/);
      const asset = await app.request(url);
      expect(asset.status, url).toBe(200);
    }
    expect((await app.request('/docs/assets/docs.css')).headers.get('content-type')).toMatch(/^text\/css/);
    // Every in-page link has its target.
    for (const anchor of urls.filter((url) => url.startsWith('#'))) expect(html, anchor).toContain(`id="${anchor.slice(1)}"`);
  });

  it('documents every operation on the page', async () => {
    const html = await (await app.request('/docs')).text();
    for (const [operationId, op] of Object.entries(operations)) {
      expect(html).toContain(`id="op-${operationId}"`);
      expect(html).toContain(`<code>${op.path}</code>`);
    }
  });

  it('answers a matching ETag with 304', async () => {
    const first = await app.request('/docs');
    const again = await app.request('/docs', { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });
});
