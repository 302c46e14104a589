/**
 * Check reports for CI systems: SARIF 2.1.0 (code scanning) and JUnit XML (test dashboards). Both are
 * derived from the versioned JSON report (CheckReport, docs/schemas/check-report.v1.json).
 */
import type { CheckReport, Finding } from './schema.js';
import { RULES } from './rules.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

function uri(report: CheckReport, f: Finding): string {
  const p = f.module === null || f.module === report.target ? report.target : `${report.target}!${f.module}`;
  return encodeURI(p.replace(/\\/g, '/'));
}

export function toSarif(report: CheckReport): Record<string, unknown> {
  const ruleIndex = new Map<string, number>(RULES.map((r, i) => [r.id, i]));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: report.tool.name,
            version: report.tool.version,
            rules: RULES.map((r) => ({
              id: r.id,
              shortDescription: { text: r.summary },
              defaultConfiguration: { level: r.severity },
            })),
          },
        },
        invocations: [{ executionSuccessful: true }],
        results: report.platforms.flatMap((p) =>
          p.findings.map((f) => ({
            ruleId: f.ruleId,
            ruleIndex: ruleIndex.get(f.ruleId) ?? -1,
            level: f.severity,
            message: { text: `[${p.id}] ${f.message}` },
            locations: [{ physicalLocation: { artifactLocation: { uri: uri(report, f) } } }],
            properties: {
              platform: p.id,
              ...(f.actual === undefined ? {} : { actual: f.actual }),
              ...(f.limit === undefined ? {} : { limit: f.limit }),
            },
          })),
        ),
      },
    ],
  };
}

/** Characters XML 1.0 cannot carry at all (C0 controls except tab, newline, carriage return). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_INVALID = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;

const esc = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(XML_INVALID, '');

/**
 * JUnit XML: one <testsuite> per platform, one <testcase> per module (plus one for the target's
 * annotations when it has any). Errors become a single <failure> per test case; warnings and notes go
 * to <system-out>.
 */
export function toJUnit(report: CheckReport): string {
  const suites = report.platforms.map((p) => {
    const cases = [
      ...report.modules.map((m) => m.path as string | null),
      ...(Object.keys(report.annotations).length > 0 || p.findings.some((f) => f.module === null) ? [null] : []),
    ];
    const rendered = cases.map((module) => {
      const findings = p.findings.filter((f) => f.module === module);
      const errors = findings.filter((f) => f.severity === 'error');
      const others = findings.filter((f) => f.severity !== 'error');
      const name = module ?? 'bundle metadata';
      const lines = [`    <testcase classname="${esc(`${p.id}`)}" name="${esc(name)}" time="0">`];
      if (errors.length > 0) {
        lines.push(
          `      <failure message="${esc(errors.map((e) => e.message).join(' | '))}" type="${esc(errors[0]!.ruleId)}">${esc(errors.map((e) => `${e.ruleId}: ${e.message}`).join('\n'))}</failure>`,
        );
      }
      if (others.length > 0) lines.push(`      <system-out>${esc(others.map((e) => `${e.severity} ${e.ruleId}: ${e.message}`).join('\n'))}</system-out>`);
      lines.push('    </testcase>');
      return { failed: errors.length > 0, xml: lines.join('\n') };
    });
    const failures = rendered.filter((c) => c.failed).length;
    return {
      tests: rendered.length,
      failures,
      xml: [
        `  <testsuite name="${esc(`${p.id}: ${p.name}`)}" tests="${rendered.length}" failures="${failures}" errors="0" skipped="0" time="0">`,
        ...rendered.map((c) => c.xml),
        '  </testsuite>',
      ].join('\n'),
    };
  });
  const tests = suites.reduce((a, s) => a + s.tests, 0);
  const failures = suites.reduce((a, s) => a + s.failures, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(`flightdeck check ${report.target}`)}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="0">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}
