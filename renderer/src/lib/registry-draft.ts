/**
 * The form of Settings → Registries: Flight Deck's own entry of config.json as the page edits it, and
 * back to what `registry.settings.save` takes. Secrets never come to the page (core/registries/edit.ts):
 * a stored secret header arrives without its value and goes back without one unless the user typed a new
 * value; a proxy arrives with its credentials redacted and, sent back unchanged, keeps the stored one.
 */
import { isSecretHeader, RegistryEntryInputSchema, type RegistryEntryInput, type RegistryEntryView } from '../../../core/api/contract.js';

export type Scheme = 'auto' | 'https' | 'http';
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

export interface HeaderRow {
  id: number;
  name: string;
  /** What the user typed; for a stored secret, '' keeps the stored value. */
  value: string;
  /** The name the stored header had (a stored secret keeps its value only under that name). */
  storedName?: string;
  /** A stored secret: its value is set, never shown. */
  storedSecret: boolean;
}

export interface MirrorRow {
  id: number;
  location: string;
  insecure: boolean;
}

export interface Draft {
  host: string;
  scheme: Scheme;
  insecure: boolean;
  blocked: boolean;
  ca: Array<{ id: number; path: string }>;
  cert: string;
  key: string;
  headers: HeaderRow[];
  proxy: string;
  mirrors: MirrorRow[];
  pullFromMirror: PullFromMirror;
}

let nextId = 0;
export const rowId = (): number => ++nextId;

/** The form's values for a stored entry, or an empty form (`host` prefilled when given). */
export function toDraft(view: RegistryEntryView | undefined, host = ''): Draft {
  return {
    host: view?.host ?? host,
    scheme: view?.plainHttp === undefined ? 'auto' : view.plainHttp ? 'http' : 'https',
    insecure: view?.insecure === true,
    blocked: view?.blocked === true,
    ca: (view?.ca ?? []).map((path) => ({ id: rowId(), path })),
    cert: view?.cert ?? '',
    key: view?.key ?? '',
    headers: (view?.headers ?? []).map((h) => ({ id: rowId(), name: h.name, value: h.value ?? '', storedName: h.name, storedSecret: h.secret })),
    proxy: view?.proxy ?? '',
    mirrors: (view?.mirrors ?? []).map((m) => ({ id: rowId(), location: m.location, insecure: m.insecure === true })),
    pullFromMirror: view?.pullFromMirror ?? 'all',
  };
}

/** Whether a header row's value is a secret (typed into a password field, never shown back). */
export function secretRow(h: HeaderRow): boolean {
  return h.storedSecret || isSecretHeader(h.name.trim());
}

/**
 * What to save. A checkbox left unticked keeps an explicit `false` of the stored entry (which overrides
 * registries.conf), else leaves the setting out.
 */
export function toInput(d: Draft, stored: RegistryEntryView | undefined): RegistryEntryInput {
  const flag = (on: boolean, was: boolean | undefined) => (on ? true : was === false ? false : undefined);
  const insecure = flag(d.insecure, stored?.insecure);
  const blocked = flag(d.blocked, stored?.blocked);
  const ca = d.ca.map((c) => c.path.trim());
  // Rows are sent as they are, empty ones included (the checks below name them): the api's field paths
  // (`headers.2.value`) then point at the row the user sees.
  const headers = d.headers.map((h) => {
    const name = h.name.trim();
    // A stored secret, nothing typed: sent without a value, and the stored value is kept (under its stored
    // name; renamed, the api asks for the value: it is never sent to the page to carry over).
    if (h.storedSecret && h.value === '') return { name };
    return { name, value: h.value };
  });
  const mirrors = d.mirrors.map((m) => ({ location: m.location.trim(), ...(m.insecure ? { insecure: true } : {}) }));
  return {
    host: d.host.trim().toLowerCase(),
    ...(d.scheme !== 'auto' ? { plainHttp: d.scheme === 'http' } : {}),
    ...(insecure !== undefined ? { insecure } : {}),
    ...(blocked !== undefined ? { blocked } : {}),
    ...(ca.length ? { ca } : {}),
    ...(d.cert.trim() ? { cert: d.cert.trim() } : {}),
    ...(d.key.trim() ? { key: d.key.trim() } : {}),
    ...(headers.length ? { headers } : {}),
    ...(d.proxy.trim() ? { proxy: d.proxy.trim() } : {}),
    ...(mirrors.length ? { mirrors, pullFromMirror: d.pullFromMirror } : {}),
  };
}

/**
 * Field errors of the input before it is sent, keyed like the api's `details.field` (`host`,
 * `headers.1.value`, `mirrors.0.location`, `ca.2`): checked with the api's own schema.
 */
export function fieldErrors(input: RegistryEntryInput): Record<string, string> {
  const errors: Record<string, string> = {};
  const ca = input.ca ?? [];
  // A CA row left empty among filled ones is dropped by the server; say so here instead.
  ca.forEach((c, i) => {
    if (!c) errors[`ca.${i}`] = 'Enter a file path, or remove this row.';
  });
  const checked = RegistryEntryInputSchema.safeParse({ ...input, ...(ca.length ? { ca: ca.map((c) => c || '-') } : {}) });
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = issue.path.join('.') || 'host';
      if (errors[field]) continue;
      if (issue.code === 'custom' && field === 'cert') {
        errors[input.cert ? 'key' : 'cert'] = 'A client certificate and its key go together: give both, or neither.';
      } else if (issue.code === 'too_small') errors[field] = 'Required.';
      else if (issue.code === 'invalid_format') errors[field] = `Expected ${issue.message}.`;
      else errors[field] = `${issue.message.charAt(0).toUpperCase()}${issue.message.slice(1)}.`;
    }
  }
  (input.headers ?? []).forEach((h, i) => {
    if (!h.name) errors[`headers.${i}.name`] ??= 'Enter the header name, or remove this row.';
  });
  return errors;
}

/** The form's fields in order, for focusing the first one in error. */
export function fieldOrder(d: Draft): string[] {
  return [
    'host',
    'plainHttp',
    'insecure',
    'blocked',
    ...d.ca.map((_, i) => `ca.${i}`),
    'cert',
    'key',
    ...d.headers.flatMap((_, i) => [`headers.${i}.name`, `headers.${i}.value`]),
    'proxy',
    ...d.mirrors.map((_, i) => `mirrors.${i}.location`),
    'pullFromMirror',
  ];
}
