/**
 * `lab sync`: bring every locked bundle into the content store (from the registry, or with `offline` only
 * from the store, e.g. after `kit import` of a kit built with `kit build --lab`), apply the signature
 * policy, check that each device's payload is the one the lock hashed, and run the platform checks.
 * Every problem is collected (one platform failing does not hide another's); `ok` only when there is none.
 */
import type { FlightDeckPaths } from '../config/paths.js';
import { throwIfAborted, toFlightDeckError } from '../errors.js';
import { profileCheck } from '../deploy/check.js';
import type { Connection, RegistryAccess } from '../oci/access.js';
import { labPolicy, openBundle, payloadFile, pinnedReference } from './content.js';
import type { Lab } from './load.js';
import { readLock } from './lock.js';
import type { LabSyncResult } from './schema.js';

export async function syncLab(lab: Lab, registry: RegistryAccess, paths: FlightDeckPaths, conn: Connection, signal?: AbortSignal): Promise<LabSyncResult> {
  const { lock, ref } = await readLock(lab);
  const policy = await labPolicy(lab, paths);
  const check = profileCheck(paths);
  const bundles: LabSyncResult['bundles'] = [];
  const problems: LabSyncResult['problems'] = [];
  for (const [platform, entry] of Object.entries(lock.bundles).sort(([a], [b]) => (a < b ? -1 : 1))) {
    throwIfAborted(signal);
    const subject = `bundles.${platform}`;
    try {
      const bundle = await openBundle(registry, pinnedReference(lab.source, platform, entry.digest), policy, conn, signal);
      const payloads: LabSyncResult['bundles'][number]['payloads'] = [];
      for (const [module, locked] of Object.entries(entry.payloads).sort(([a], [b]) => (a < b ? -1 : 1))) {
        const where = `${subject}${module ? ` module ${module}` : ''}`;
        const p = await bundle.payload(module);
        const findings: Array<{ rule: string; message: string }> = [];
        if (p.sha256 !== locked.sha256) {
          problems.push({
            code: 'BLOB_DIGEST_MISMATCH',
            message: `${where}: ${payloadFile(p)} hashes to sha256:${p.sha256}, but the lock says sha256:${locked.sha256}.`,
            hint: 'The lock does not describe this bundle; run `flightdeck lab lock` again and review the change.',
            subject: where,
          });
        }
        if (p.platform && p.platform !== platform)
          findings.push({ rule: 'bundle.platform', message: `the bundle is built for ${p.platform}, not ${platform}` });
        const checked = await check(p.bytes, platform);
        findings.push(...checked.findings);
        for (const f of findings) {
          problems.push({
            code: 'PAYLOAD_CHECK_FAILED',
            message: `${where}: ${payloadFile(p)} does not fit ${platform}: [${f.rule}] ${f.message}`,
            hint: 'Lock a bundle built for this platform (bundles in the lab file), or pick another module.',
            subject: where,
          });
        }
        payloads.push({ module, file: payloadFile(p), sha256: p.sha256, fits: findings.length === 0, findings });
      }
      bundles.push({ platform, reference: bundle.reference, digest: bundle.digest, signature: bundle.verdict, payloads });
    } catch (err) {
      const e = toFlightDeckError(err);
      if (e.code === 'ABORTED') throw e;
      problems.push({ code: e.code, message: `${subject}: ${e.message}`, hint: e.hint, subject });
    }
  }
  return { ...ref, ok: problems.length === 0, bundles, problems };
}
