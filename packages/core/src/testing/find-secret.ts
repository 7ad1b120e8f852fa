import { inspect } from 'node:util';

/**
 * Where `secret` shows up in `values`, or `undefined` when it shows up nowhere: for adapter
 * authors' tests that no password leaks. Each value is searched in every form a user might print
 * it (`String()`, `util.inspect` with hidden properties at full depth, `JSON.stringify`) and,
 * for errors, in `message`, `stack`, `cause`, `suppressed` and `errors`, recursively. The secret is
 * looked for as given, percent-encoded (as it sits in a URL), and as each of its runs of four or
 * more letters and digits, so a redaction that stopped at a `/`, `@` or space is caught too.
 *
 * @example
 * ```ts
 * const secret = 'Zq9kX/Wm4pL Tr7vB@Hn2cD%Jy5fG'
 * const adapter = postgres({ host: 'db', user: 'app', password: secret })
 * expect(findSecret(secret, adapter, adapter.description)).toBeUndefined()
 * ```
 */
export function findSecret(secret: string, ...values: unknown[]): string | undefined {
  const needles = new Set([secret, encodeURIComponent(secret), ...(secret.match(/[A-Za-z0-9]{4,}/g) ?? [])]);
  for (const [index, value] of values.entries()) {
    for (const [form, text] of printedForms(value, 0)) {
      for (const needle of needles) {
        if (text.includes(needle))
          return `value #${index}, ${form}, contains ${JSON.stringify(needle)}: ${text.slice(0, 500)}`;
      }
    }
  }
  return undefined;
}

function printedForms(value: unknown, depth: number): [string, string][] {
  const forms: [string, string][] = [];
  if (typeof value === 'string') return [['the string', value]];
  forms.push(['String()', safe(() => String(value))]);
  forms.push(['util.inspect', safe(() => inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY }))]);
  forms.push(['JSON.stringify', safe(() => JSON.stringify(value) ?? '')]);
  if (value instanceof Error && depth < 5) {
    forms.push(['message', value.message], ['stack', String(value.stack)]);
    const nested = value as Error & { suppressed?: unknown; errors?: unknown };
    const inner = [value.cause, ...asArray(nested.suppressed), ...asArray(nested.errors)];
    for (const item of inner) {
      if (item !== undefined)
        forms.push(...printedForms(item, depth + 1).map(([f, t]): [string, string] => [`cause: ${f}`, t]));
    }
  }
  return forms;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function safe(print: () => string): string {
  try {
    return print();
  } catch (error) {
    return `[unprintable: ${(error as Error).message}]`;
  }
}
