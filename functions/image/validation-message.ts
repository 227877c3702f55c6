import type { z } from 'zod';

/**
 * Turns one zod issue into the project's one wording for validation errors,
 * `Expected <what> for <path> but received <value>` (after sharp's `lib/is.mjs`), so people read
 * the same sentence shape whichever field is wrong and tests can check the text exactly.
 * Needs the issue's `input`, so parse with `{ reportInput: true }`.
 */
export function describeIssue(issue: z.core.$ZodIssue, root = 'params'): string {
  const path = issue.path.length === 0 ? root : [root, ...issue.path.map(String)].join('.');
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      return sentence(article(issue.expected === 'int' ? 'integer' : issue.expected), path, input);
    case 'too_small':
    case 'too_big':
      return sentence(bound(issue), path, input);
    case 'invalid_value':
      return sentence(
        `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        path,
        input,
      );
    case 'invalid_format':
      // Schemas give regexes a human description as their message.
      return sentence(issue.message, path, input);
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (discriminator && options) {
        const value =
          input && typeof input === 'object'
            ? (input as Record<string, unknown>)[discriminator]
            : input;
        return sentence(`one of ${options.map((v) => JSON.stringify(v)).join(', ')}`, path, value);
      }
      return sentence('one of the allowed shapes', path, input);
    }
    case 'unrecognized_keys':
      return sentence('only known keys', path, issue.keys.join(', '), true);
    default:
      return sentence(issue.message, path, input);
  }
}

/** All issues of a failed parse, one sentence each, joined with `; `. */
export function describeError(error: z.ZodError, root = 'params'): string {
  return error.issues.map((issue) => describeIssue(issue, root)).join('; ');
}

function sentence(expected: string, path: string, received: unknown, raw = false): string {
  return `Expected ${expected} for ${path} but received ${raw ? String(received) : show(received)}`;
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = Number(
    small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum,
  );
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'array':
    case 'set':
      return (
        `${issue.origin === 'set' ? 'a set' : 'a list'} of ${small ? 'at least' : 'at most'} ` +
        `${limit} items`
      );
    case 'string':
      return `a string of ${small ? 'at least' : 'at most'} ${limit} characters`;
    default: {
      const op = small ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
      return `a number ${op} ${limit}`;
    }
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text =
      typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
