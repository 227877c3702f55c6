import type { Route } from './file-schema.js';

/** What routing looks at: the uploaded object as storage describes it. */
export interface RoutedObject {
  bucket: string;
  key: string;
  size: number;
  contentType: string | undefined;
}

/** The first route whose every condition holds, with its position in the list, or undefined. */
export function matchRoute(
  routes: readonly Route[],
  object: RoutedObject,
): { index: number; route: Route } | undefined {
  const index = routes.findIndex((route) => routeMatches(route, object));
  return index < 0 ? undefined : { index, route: routes[index]! };
}

export function routeMatches(route: Route, object: RoutedObject): boolean {
  if (route.bucket !== undefined && route.bucket !== object.bucket) return false;
  if (route.prefix !== undefined && !object.key.startsWith(route.prefix)) return false;
  if (route.glob !== undefined && !globToRegExp(route.glob).test(object.key)) return false;
  if (route.contentType !== undefined && !typeMatches(route.contentType, object.contentType))
    return false;
  if (route.minBytes !== undefined && object.size < route.minBytes) return false;
  if (route.maxBytes !== undefined && object.size > route.maxBytes) return false;
  return true;
}

function typeMatches(pattern: string, contentType: string | undefined): boolean {
  const actual = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!actual) return false;
  const wanted = pattern.toLowerCase();
  return wanted.endsWith('/*') ? actual.startsWith(wanted.slice(0, -1)) : actual === wanted;
}

const globCache = new Map<string, RegExp>();

/**
 * A glob as an anchored regular expression: `**` any characters (slashes included; `**\/` also
 * matches nothing), `*` any characters but `/`, `?` one character but `/`, `{a,b}` either.
 * Everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  const cached = globCache.get(glob);
  if (cached) return cached;
  let source = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '{') {
      braces++;
      source += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      source += ')';
    } else if (c === ',' && braces > 0) source += '|';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  source += ')'.repeat(braces);
  const regex = new RegExp(`^${source}$`, 'u');
  globCache.set(glob, regex);
  return regex;
}

/**
 * Warnings for routes that can never match because an earlier route matches everything they
 * would. Conservative: it only reports what it can prove from the conditions' shapes.
 */
export function shadowingWarnings(routes: readonly Route[]): string[] {
  const warnings: string[] = [];
  routes.forEach((later, j) => {
    const earlier = routes.findIndex((route, i) => i < j && covers(route, later));
    if (earlier >= 0)
      warnings.push(
        `routes[${j}] never matches: routes[${earlier}] comes first and matches everything it ` +
          'would',
      );
  });
  return warnings;
}

/** True when every object `narrow` matches is also matched by `wide`. */
function covers(wide: Route, narrow: Route): boolean {
  if (wide.bucket !== undefined && wide.bucket !== narrow.bucket) return false;
  if (wide.prefix !== undefined && !literalHead(narrow).startsWith(wide.prefix)) return false;
  if (wide.glob !== undefined && wide.glob !== narrow.glob) return false;
  if (wide.contentType !== undefined) {
    if (narrow.contentType === undefined) return false;
    const w = wide.contentType.toLowerCase();
    const n = narrow.contentType.toLowerCase();
    if (!(w === n || (w.endsWith('/*') && n.startsWith(w.slice(0, -1)) && !n.endsWith('/*'))))
      return false;
  }
  if (wide.minBytes !== undefined && (narrow.minBytes ?? 0) < wide.minBytes) return false;
  if (wide.maxBytes !== undefined && (narrow.maxBytes ?? Infinity) > wide.maxBytes) return false;
  return true;
}

/** The fixed start every key a route matches shares: its prefix, or its glob's literal head. */
function literalHead(route: Route): string {
  const globHead = route.glob?.match(/^[^*?{]*/)?.[0] ?? '';
  const prefix = route.prefix ?? '';
  return globHead.length > prefix.length && globHead.startsWith(prefix) ? globHead : prefix;
}
