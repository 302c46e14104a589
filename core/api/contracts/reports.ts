/**
 * Contract entry for exporting a check report in the formats CI systems read (JSON, SARIF, JUnit), so
 * the UI offers the same files as `flightdeck check --format`. Browser-safe: zod only.
 */
import { z } from 'zod';
import { CheckReportSchema, ExportedReportSchema, ReportFormatSchema } from '../../platforms/schema.js';

export const reportsContract = {
  'check.export': {
    summary: 'Render a check report as JSON, SARIF 2.1.0 or JUnit XML, with a file name to save it under.',
    input: z.object({ report: CheckReportSchema, format: ReportFormatSchema }).strict(),
    output: ExportedReportSchema,
  },
} as const;
