import spectralCore from '@stoplight/spectral-core';
import { Json } from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../pipeline/api/openapi.js';

const { Spectral, Document } = spectralCore;
type Operation = {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { in: string }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
};

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

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(
      ([route, item]) =>
        Object.entries(item).map(([method, op]) => ({ at: `${method} ${route}`, op })),
    );

  it('gives every operation the 4xx answers it can give', () => {
    const missing: string[] = [];
    for (const { at, op } of operations()) {
      const has = (...statuses: string[]) => {
        for (const status of statuses)
          if (!(status in op.responses)) missing.push(`${at}: ${status}`);
      };
      if (op.security === undefined) has('401', '429');
      // A path names something that may not exist, except where the request creates it.
      if (!at.startsWith('put ') && op.parameters?.some((p) => p.in === 'path')) has('404');
      if (op.requestBody && op.security === undefined) has('400');
    }
    expect(missing).toEqual([]);
  });

  it('shows examples of the main requests and of every JSON error', () => {
    const jsonOf = (op: Operation, status: string) =>
      op.responses[status]?.content?.['application/json'];
    const byAt = new Map(operations().map(({ at, op }) => [at, op]));
    const submit = byAt.get('post /v1/jobs')!;
    expect(submit.requestBody).toMatchObject({
      content: { 'application/json': { example: { items: [expect.any(Object)] } } },
    });
    expect(jsonOf(submit, '202')?.example).toMatchObject({ jobIds: [expect.any(String)] });
    expect(jsonOf(byAt.get('get /v1/jobs/{id}')!, '200')?.example).toMatchObject({
      tasks: expect.any(Array),
    });
    const bare: string[] = [];
    for (const { at, op } of operations())
      for (const status of Object.keys(op.responses))
        if (status.startsWith('4') && jsonOf(op, status) && !jsonOf(op, status)?.example)
          bare.push(`${at}: ${status}`);
    expect(bare).toEqual([]);
  });
});
