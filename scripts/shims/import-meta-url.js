// Injected into the CommonJS commands bundle (scripts/build.mjs): `import.meta.url` of the bundled ES modules
// becomes the bundle's own file URL, which is what they use it for (finding package.json, createRequire).
import { pathToFileURL } from 'node:url';

// __filename is the CommonJS wrapper's (cli/load-main.ts passes the bundle's path)
export const __flightdeckImportMetaUrl = pathToFileURL(__filename).href;
