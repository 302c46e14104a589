/**
 * The lab's file names and schema ids, apart from the zod schemas of core/lab/schema.ts (which re-exports
 * them): the CLI names the default lab file at start-up without building the lab schemas.
 */
export const LAB_FILE = 'flightdeck.lab.yaml';
export const LAB_LOCK_SCHEMA = 'flightdeck.lab-lock/v1';
export const LAB_SCHEMA_ID = 'https://flightdeck.dev/schemas/lab.v1.json';
