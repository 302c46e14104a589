import type { AreaHandlers } from '../context.js';
import { toJUnit, toSarif } from '../../platforms/formats.js';

const safeName = (target: string) =>
  (
    target
      .split(/[/\\:@]/)
      .filter(Boolean)
      .pop() ?? 'report'
  )
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 80);

/** Handlers of report export (contracts/reports.ts): the same renderings as `flightdeck check --format`. */
export function reportsHandlers(): AreaHandlers<'check.export'> {
  return {
    async 'check.export'({ report, format }) {
      const base = `flightdeck-check-${safeName(report.target)}`;
      if (format === 'sarif') return { filename: `${base}.sarif`, mediaType: 'application/sarif+json', content: JSON.stringify(toSarif(report), null, 2) };
      if (format === 'junit') return { filename: `${base}.junit.xml`, mediaType: 'application/xml', content: toJUnit(report) };
      return { filename: `${base}.json`, mediaType: 'application/json', content: JSON.stringify(report, null, 2) };
    },
  };
}
