// A small renderer for /openapi.json: each operation with its parameters, body and responses.
// Schemas are shown as JSON Schema; that is what the server validates against.
const root = document.getElementById('docs');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

const schemaBlock = (schema) =>
  el('details', {}, el('summary', {}, 'schema'), el('pre', {}, JSON.stringify(schema, null, 2)));

/** The info description: prose paragraphs, and its markdown table of error codes as a table. */
function description(text) {
  const lines = text.split('\n');
  const rows = lines
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/`/g, '')),
    );
  const prose = lines
    .filter((l) => l && !l.startsWith('|'))
    .map((l) => el('p', {}, l.replace(/`/g, '')));
  if (!rows.length) return prose;
  const [head, ...body] = rows;
  return [
    ...prose,
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          head.map((h) => el('th', {}, h)),
        ),
      ),
      el(
        'tbody',
        {},
        body.map((r) =>
          el(
            'tr',
            {},
            r.map((c) => el('td', {}, c)),
          ),
        ),
      ),
    ),
  ];
}

function operation(path, method, op) {
  const parts = [
    el('h3', { id: `${method}-${path}` }, `${method.toUpperCase()} ${path}`),
    el('p', {}, op.summary ?? ''),
  ];
  if (op.description) parts.push(el('p', {}, op.description.replace(/`/g, '')));
  if (op.security && op.security.length === 0) parts.push(el('p', {}, 'No authentication.'));
  if (op.parameters?.length) {
    parts.push(
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ['parameter', 'in', 'required', 'schema'].map((h) => el('th', {}, h)),
          ),
        ),
        el(
          'tbody',
          {},
          op.parameters.map((p) =>
            el(
              'tr',
              {},
              el('td', {}, p.name),
              el('td', {}, p.in),
              el('td', {}, p.required ? 'yes' : 'no'),
              el('td', {}, el('code', {}, JSON.stringify(p.schema))),
            ),
          ),
        ),
      ),
    );
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body) parts.push(el('h4', {}, 'Request body'), schemaBlock(body));
  parts.push(el('h4', {}, 'Responses'));
  for (const [status, response] of Object.entries(op.responses ?? {})) {
    const schema = Object.values(response.content ?? {})[0]?.schema;
    parts.push(
      el(
        'div',
        {},
        el('strong', {}, status),
        ' ',
        response.description ?? '',
        schema ? schemaBlock(schema) : null,
      ),
    );
  }
  return el('section', { class: 'operation' }, parts);
}

async function main() {
  const spec = await (await fetch('/openapi.json')).json();
  const ops = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => operation(path, method, op)),
  );
  root.replaceChildren(
    el('h1', {}, `${spec.info.title} API ${spec.info.version}`),
    el('p', {}, `OpenAPI ${spec.openapi}`),
    ...description(spec.info.description ?? ''),
    ...ops,
  );
}

main().catch((error) =>
  root.replaceChildren(
    el('p', { class: 'error' }, `Could not load /openapi.json: ${error.message}`),
  ),
);
