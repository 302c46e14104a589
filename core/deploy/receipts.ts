/**
 * Deploy receipts, one JSON file per deploy in `<data>/receipts/`, and saved device sessions (timestamped
 * JSON lines) in `<log>/sessions/`. Both are written atomically: a reader sees the whole file or none.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ReceiptSchema, type ListedReceipt, type Receipt } from './schema.js';
import type { FlightDeckPaths } from '../config/paths.js';
import { packageVersion } from '../config/package.js';
import { FlightDeckError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { DeployResult } from './deploy.js';
import type { Payload } from './payload.js';
import type { LogLine } from './protocol.js';

export function receiptsDir(paths: FlightDeckPaths): string {
  return path.join(paths.data, 'receipts');
}

export function sessionsDir(paths: FlightDeckPaths): string {
  return path.join(paths.log, 'sessions');
}

function operator(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** The receipt of a finished deploy (not yet written). `name` is the device name the user gave, if any. */
export function makeReceipt(r: DeployResult, payload: Payload, device: { uri: string; name: string | null }): Receipt {
  const time = new Date();
  const reported = r.state.activeHash ?? null;
  return {
    schema: 'flightdeck.receipt/v1',
    id: `${time.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`,
    time: time.toISOString(),
    tool: { name: 'flightdeck', version: packageVersion() },
    operator: operator(),
    source: payload.source ?? null,
    kit: null,
    payload: { name: r.payload, sha256: r.sha256, size: r.size },
    device: { uri: device.uri, name: device.name, platform: r.platform, serial: r.serial ?? null, firmware: r.firmware },
    reported: { slot: r.state.active, sha256: reported, matches: reported === r.sha256 },
    outcome: r.outcome,
    transfer: r.transfer,
    session: null,
    exitCode: null,
  };
}

export async function writeReceipt(paths: FlightDeckPaths, receipt: Receipt): Promise<string> {
  const dir = receiptsDir(paths);
  const file = path.join(dir, `${receipt.id}.json`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(file, JSON.stringify(receipt, null, 2) + '\n');
  } catch (err) {
    throw ioError(`Cannot write the deploy receipt ${file}`, err, file);
  }
  return file;
}

import { receiptModule, receiptReference } from './receipt-names.js';

export { receiptModule, receiptReference };

/** Receipts, newest first; with `device`, those whose URI, name or serial number is it. */
export async function listReceipts(paths: FlightDeckPaths, device?: string): Promise<ListedReceipt[]> {
  const dir = receiptsDir(paths);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const receipts: ListedReceipt[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let parsed;
    try {
      parsed = ReceiptSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    } catch {
      continue; // not JSON: not one of ours
    }
    if (!parsed.success) continue;
    const d = parsed.data.device;
    if (device && ![d.uri, d.name, d.serial].includes(device)) continue;
    receipts.push({ ...parsed.data, file, module: receiptModule(parsed.data), reference: receiptReference(parsed.data) });
  }
  return receipts.sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
}

export interface SessionRecord {
  device: string;
  receipt: string | null;
  payloadSha256: string | null;
  lines: Array<{ time: string } & LogLine>;
}

/** Save a device log session: a header line, then one `{time, stream, text}` line per log line. */
export async function saveSession(file: string, s: SessionRecord): Promise<string> {
  const header = { session: { device: s.device, receipt: s.receipt, payloadSha256: s.payloadSha256, saved: new Date().toISOString() } };
  const text = [header, ...s.lines].map((l) => JSON.stringify(l)).join('\n') + '\n';
  const target = path.resolve(file);
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFileAtomic(target, text);
  } catch (err) {
    throw ioError(`Cannot save the device session to ${target}`, err, target);
  }
  return target;
}

function ioError(what: string, err: unknown, file: string): FlightDeckError {
  const code = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR';
  return new FlightDeckError(code, `${what}: ${(err as Error).message}`, { cause: err, details: { path: file } });
}
