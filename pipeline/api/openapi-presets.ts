import { z } from 'zod';
import { presetListSchema, presetViewSchema } from './preset-view.js';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType): Json => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, {
    io: 'output',
    unrepresentable: 'any',
  }) as Json;
  return rest;
};

/**
 * The presets endpoints, with the names in force listed (as an enum of the path parameter), so
 * a reader of /docs sees which presets this server has.
 */
export function presetPaths(names: readonly string[], error: (d: string) => Json): Json {
  const listed = presetNamesText(names);
  return {
    '/v1/presets': {
      get: {
        summary: 'The presets (resolved settings) and routes in force',
        description: `Built-ins, overridden or extended by MEDIAFLOW_PRESETS_FILE. ${listed}`,
        responses: {
          200: {
            description: 'Every preset and the routes.',
            content: { 'application/json': { schema: schema(presetListSchema) } },
          },
        },
      },
    },
    '/v1/presets/{name}': {
      get: {
        summary: 'One preset with every setting resolved',
        parameters: [
          {
            name: 'name',
            in: 'path',
            required: true,
            schema: { type: 'string', enum: [...names] },
          },
        ],
        responses: {
          200: {
            description: 'The preset.',
            content: { 'application/json': { schema: schema(presetViewSchema) } },
          },
          404: error('No preset has that name (NOT_FOUND); the message lists the names.'),
        },
      },
    },
  };
}

/** One sentence naming the presets in force, for descriptions. */
export function presetNamesText(names: readonly string[]): string {
  return `Presets here: ${names.map((n) => `\`${n}\``).join(', ')}.`;
}
