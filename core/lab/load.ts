/**
 * Reading a lab file: `flightdeck.lab.yaml` in the current folder or the file given with `--lab`. YAML is
 * parsed by the `yaml` package (line numbers for every node), the document is checked against
 * LabFileSchema (core/lab/schema.ts), then against what the schema cannot know: known platforms, unique
 * device names, device URIs, a bundle for every device's platform, the source reference. Every problem is
 * LAB_INVALID naming the file, the line and the path inside the file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError } from '../errors.js';
import { loadProfiles } from '../platforms/profiles.js';
import { parseDeviceUri } from '../deploy/transport.js';
import { isRepository, parseRegistryTarget } from '../oci/reference.js';
import { LAB_FILE, LabFileSchema, type LabFile } from './schema.js';

/** Lab files are small: a lab of a thousand kits is far below this. */
export const MAX_LAB_FILE_BYTES = 1024 * 1024;
export const DEFAULT_NAMESPACE = 'flight/shared-types';

/** Where a lab's bundles come from. */
export type LabSource =
  | { kind: 'registry'; registry: string; namespace: string }
  /** `dir` absolute (resolved against the lab file's folder); `given` as written in the lab file. */
  | { kind: 'layout'; dir: string; given: string; namespace: string };

export interface Lab {
  /** Absolute path of the lab file. */
  file: string;
  /** Absolute path of its lock: the lab file's name with .lock for .yaml/.yml. */
  lockFile: string;
  doc: LabFile;
  source: LabSource;
  /** Absolute path of the signature policy, when the lab names one. */
  policy: string | undefined;
}

/** The lab file: `file` as given (relative to `cwd`), else flightdeck.lab.yaml in `cwd`. */
export function labPath(cwd: string, file: string | undefined): string {
  return path.resolve(cwd, file ?? LAB_FILE);
}

export function lockPathOf(file: string): string {
  return file.replace(/\.ya?ml$/i, '') + '.lock';
}

type Segment = string | number;

/** A located problem: LAB_INVALID with `file:line: path: message`. */
function invalid(file: string, line: number | undefined, where: Segment[], message: string, hint?: string): FlightDeckError {
  const at = where.length ? where.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('') : '(top level)';
  return new FlightDeckError('LAB_INVALID', `${file}${line ? `:${line}` : ''}: ${at}: ${message}`, {
    details: { file, ...(line ? { line } : {}), path: at },
    ...(hint ? { hint } : {}),
  });
}

/** The line of the node at `where` (or of the nearest parent that exists); for `key`, the line of that key. */
function lineOf(doc: Document, lc: LineCounter, where: Segment[], key?: string): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined;
  const at = (n: unknown) => {
    const range = (n as Node | null)?.range;
    return range ? lc.linePos(range[0]).line : undefined;
  };
  best = at(node);
  for (const seg of where) {
    if (!isCollection(node)) break;
    const pair = isMap(node) ? node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg) : undefined;
    const next: unknown = isMap(node) ? pair?.value : (node.items[seg as number] ?? undefined);
    if (next === undefined || next === null) {
      if (pair?.key) best = at(pair.key) ?? best;
      break;
    }
    node = next;
    best = at(node) ?? best;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    best = at(pair?.key) ?? best;
  }
  return best;
}

/** Parse and check lab file text; `file` names it in messages and anchors relative paths. */
export async function parseLab(file: string, text: string, paths: FlightDeckPaths): Promise<Lab> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = lc.linePos(first.pos[0]).line;
    throw invalid(file, line, [], `not valid YAML: ${first.message.split('\n')[0]}`, 'Fix the YAML syntax at that line (see docs/lab.md for an example).');
  }
  let json: unknown;
  try {
    json = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw invalid(file, undefined, [], `cannot be read: ${(err as Error).message}`);
  }
  const parsed = LabFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.filter((s): s is Segment => typeof s === 'string' || typeof s === 'number');
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      throw invalid(
        file,
        lineOf(doc, lc, where, key),
        [...where, key],
        `unknown key ${JSON.stringify(key)}`,
        'Allowed keys are listed in docs/schemas/lab.schema.json.',
      );
    }
    let message = issue.message;
    if (issue.code === 'invalid_union' && where.length === 2 && where[0] === 'bundles') message = 'give either { tag: "..." } or { digest: "sha256:..." }';
    else if (issue.code === 'invalid_union') {
      // The most useful branch's own message (e.g. a bad digest), rather than "Invalid input".
      const inner = issue.errors.flat().find((i) => i.code !== 'unrecognized_keys' && i.code !== 'invalid_type');
      if (inner) message = inner.message;
    }
    throw invalid(file, lineOf(doc, lc, where), where, message);
  }
  const lab = parsed.data;
  const line = (where: Segment[], key?: string) => lineOf(doc, lc, where, key);

  // The source.
  let source: LabSource;
  const base = path.dirname(file);
  if (lab.source.startsWith('oci:')) {
    const rest = lab.source.slice(4);
    const colon = rest.indexOf(':', /^[A-Za-z]:[\\/]/.test(rest) ? 2 : 0);
    const dir = colon > 0 ? rest.slice(0, colon) : rest;
    const namespace = colon > 0 ? rest.slice(colon + 1) : DEFAULT_NAMESPACE;
    if (!dir || dir.includes('\0')) throw invalid(file, line(['source']), ['source'], 'oci: needs a directory (oci:DIR[:namespace])');
    if (!isRepository(namespace))
      throw invalid(file, line(['source']), ['source'], `${JSON.stringify(namespace)} is not a namespace (lower-case path components)`);
    source = { kind: 'layout', dir: path.resolve(base, dir), given: dir, namespace };
  } else {
    let target;
    try {
      target = parseRegistryTarget(lab.source);
    } catch (err) {
      throw invalid(
        file,
        line(['source']),
        ['source'],
        (err as Error).message,
        'Use host[:port]/namespace, e.g. registry.lab.example/flight/shared-types, or oci:DIR.',
      );
    }
    if (!target.repository || !(target.registry.includes('.') || target.registry.includes(':') || target.registry === 'localhost')) {
      throw invalid(
        file,
        line(['source']),
        ['source'],
        `${JSON.stringify(lab.source)} is not host[:port]/namespace`,
        'e.g. registry.lab.example/flight/shared-types, or oci:DIR.',
      );
    }
    source = { kind: 'registry', registry: target.registry, namespace: target.repository };
  }

  // Platforms: known profiles (built in or the user's).
  const known = new Set((await loadProfiles(paths)).map((e) => e.profile.id));
  for (const platform of Object.keys(lab.bundles)) {
    if (!known.has(platform)) {
      throw invalid(
        file,
        line(['bundles'], platform),
        ['bundles', platform],
        `unknown platform ${JSON.stringify(platform)}; known: ${[...known].sort().join(', ')}`,
      );
    }
  }
  const names = new Map<string, number>();
  for (const [i, d] of lab.devices.entries()) {
    const where = ['devices', i];
    const seen = names.get(d.name);
    if (seen !== undefined) {
      throw invalid(
        file,
        line([...where, 'name']),
        [...where, 'name'],
        `duplicate device name ${JSON.stringify(d.name)} (also devices[${seen}], line ${line(['devices', seen, 'name']) ?? '?'})`,
      );
    }
    names.set(d.name, i);
    if (!known.has(d.platform)) {
      throw invalid(
        file,
        line([...where, 'platform']),
        [...where, 'platform'],
        `unknown platform ${JSON.stringify(d.platform)}; known: ${[...known].sort().join(', ')}`,
      );
    }
    if (!Object.hasOwn(lab.bundles, d.platform)) {
      throw invalid(
        file,
        line([...where, 'platform']),
        [...where, 'platform'],
        `no bundle listed for platform ${JSON.stringify(d.platform)}`,
        `Add it under bundles, e.g. ${d.platform}: { tag: "latest" }.`,
      );
    }
    if (!d.uri && !d.serialNumber) throw invalid(file, line(where), where, 'give uri, serialNumber, or both');
    if (d.uri) {
      try {
        parseDeviceUri(d.uri);
      } catch (err) {
        throw invalid(file, line([...where, 'uri']), [...where, 'uri'], (err as Error).message);
      }
    }
  }
  return { file, lockFile: lockPathOf(file), doc: lab, source, policy: lab.policy ? path.resolve(base, lab.policy) : undefined };
}

/** Read and check the lab file at `file` (absolute). */
export async function loadLab(file: string, paths: FlightDeckPaths): Promise<Lab> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FlightDeckError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `Cannot read the lab file ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: code === 'ENOENT' ? `Create ${LAB_FILE} in this folder (docs/lab.md) or give --lab FILE.` : undefined,
      details: { path: file },
    });
  }
  if (bytes.length > MAX_LAB_FILE_BYTES) throw invalid(file, undefined, [], `is ${bytes.length} bytes, over the ${MAX_LAB_FILE_BYTES}-byte cap for a lab file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(file, undefined, [], 'is not UTF-8 text');
  }
  return parseLab(file, text, paths);
}
