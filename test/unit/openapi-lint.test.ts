import spectralCore from '@stoplight/spectral-core';
import { Json } from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../pipeline/api/openapi.js';

const { Spectral, Document } = spectralCore;
type Operation = { operationId?: string; tags?: string[] };

/**
 * The OpenAPI document as a linter (Spectral's OpenAPI rules, offline) and a client generator see
 * it: no errors, and an operationId on every operation, each its own.
 */
describe('OpenAPI document lint', () => {
  const doc = buildOpenApi({ maxBatchItems: 100, version: '0.0.0', presets: ['video', 'image'] });

  it("passes Spectral's OpenAPI ruleset with no errors and no warnings", async () => {
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas as never, 'recommended']] });
    const results = await spectral.run(new Document(JSON.stringify(doc), Json));
    const found = results.map((r) => `${r.severity} ${r.code} ${r.path.join('.')}: ${r.message}`);
    expect(found.filter((r) => r.startsWith('0 '))).toEqual([]);
    expect(found).toEqual([]);
    // Spectral compiles its ruleset first: over 10 s on a busy 2-core machine.
  }, 60_000);

  it('names every operation once, for generated clients', () => {
    const paths = doc.paths as Record<string, Record<string, Operation>>;
    const ids = Object.values(paths).flatMap((item) =>
      Object.values(item).map((op) => op.operationId),
    );
    expect(ids.length).toBeGreaterThan(15);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(paths['/v1/jobs/{id}']!.delete!.operationId).toBe('cancelJob');
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:8080' })]);
  });
});
