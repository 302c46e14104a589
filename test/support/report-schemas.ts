/**
 * Validators for the CI report formats: the vendored OASIS SARIF 2.1.0 schema
 * (test/fixtures/schemas/sarif-schema-2.1.0.json) and JUnit XML (parsed with @xmldom/xmldom, then checked
 * against test/fixtures/schemas/junit.schema.json, which mirrors the JUnit XSD). ajv has no format
 * plugins installed, so the three formats SARIF uses are checked here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { DOMParser } from '@xmldom/xmldom';
import { ROOT } from './cli.js';

const schema = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/schemas', name), 'utf8')) as object;

function ajv(): Ajv {
  const a = new Ajv({ allErrors: true, strict: false });
  a.addFormat('uri', (s: string) => URL.canParse(s));
  a.addFormat('uri-reference', (s: string) => URL.canParse(s, 'file:///') && !/\s/.test(s));
  a.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  return a;
}

let sarif: ValidateFunction | undefined;
let junit: ValidateFunction | undefined;
let checkReport: ValidateFunction | undefined;

function errors(v: ValidateFunction): string {
  return JSON.stringify(v.errors?.slice(0, 5), null, 1);
}

export function assertSarif(doc: unknown): void {
  sarif ??= ajv().compile(schema('sarif-schema-2.1.0.json'));
  if (!sarif(doc)) throw new Error(`SARIF 2.1.0 schema violations: ${errors(sarif)}`);
}

export function assertCheckReport(doc: unknown): void {
  checkReport ??= ajv().compile(JSON.parse(readFileSync(path.join(ROOT, 'docs/schemas/check-report.v1.json'), 'utf8')) as object);
  if (!checkReport(doc)) throw new Error(`check-report.v1 schema violations: ${errors(checkReport)}`);
}

interface Node {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: Node[];
}

type XmlElement = NonNullable<ReturnType<DOMParser['parseFromString']>['documentElement']>;

function toNode(el: XmlElement): Node {
  const attributes: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) attributes[el.attributes[i]!.name] = el.attributes[i]!.value;
  const children: Node[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) children.push(toNode(c as XmlElement));
  return { name: el.tagName, attributes, text: el.textContent ?? '', children };
}

/**
 * xmldom tolerates mismatched end tags, so check that start and end tags balance (the rest of
 * well-formedness — attributes, entities, one root — is xmldom's job).
 */
function balancedTags(xml: string): string[] {
  const stack: string[] = [];
  const problems: string[] = [];
  for (const m of xml.replace(/<\?[^>]*\?>/g, '').matchAll(/<(\/?)([A-Za-z_][\w:.-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (selfClose) continue;
    if (!close) stack.push(name!);
    else if (stack.pop() !== name) problems.push(`mismatched end tag </${name}> at ${m.index}`);
  }
  if (stack.length > 0) problems.push(`unclosed <${stack.join('>, <')}>`);
  return problems;
}

/** Parse (failing on any XML error) and validate; returns the tree for further assertions. */
export function assertJUnit(xml: string): Node {
  const problems: string[] = balancedTags(xml);
  const doc = new DOMParser({ errorHandler: (level: string, msg: unknown) => problems.push(`${level}: ${String(msg)}`) }).parseFromString(xml, 'text/xml');
  if (problems.length > 0 || !doc.documentElement) throw new Error(`JUnit XML is not well-formed: ${problems.join('; ')}`);
  const tree = toNode(doc.documentElement);
  junit ??= ajv().compile(schema('junit.schema.json'));
  if (!junit(tree)) throw new Error(`JUnit schema violations: ${errors(junit)}`);
  return tree;
}
