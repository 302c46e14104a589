/** Writes assets/linux/70-flightdeck.rules from the known adapters (core/deploy/adapters.ts); a unit test fails when stale. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { udevRules } from '../core/deploy/adapters.js';

export const UDEV_RULES_FILE = 'assets/linux/70-flightdeck.rules';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(path.dirname(path.join(root, UDEV_RULES_FILE)), { recursive: true });
writeFileSync(path.join(root, UDEV_RULES_FILE), udevRules());
console.log(`wrote ${UDEV_RULES_FILE}`);
