/**
 * `npm run bench -- ws-fuzz` (or `npx tsx bench/ws-fuzz.ts`): 100,000 WebSocket fuzz cases (FUZZ_CASES)
 * against the web host `flightdeck serve` runs (startWebHost, in-process, real api handlers on a temporary
 * home). A quarter mutate the handshake (before authentication), the rest send mutated or random frames
 * after a good handshake (test/support/ws-raw.ts, the same generator the unit test runs 2,000 of). Every
 * case must end with an allowed status / close code, without a hang (10 s watchdog) or an exception in the
 * host; a client connected before the run must still be answered after it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startWebHost } from '../cli/serve/web-host.js';
import { createHandlers } from '../core/api/service.js';
import { nativeApiDeps } from '../composition/deps.js';
import { runWsFuzz } from '../test/support/ws-raw.js';
import { recordLoad } from './lib/load.mjs';

recordLoad('at start');

const FUZZ_CASES = Number(process.env.FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 2026);
const crashes: string[] = [];
process.on('uncaughtException', (err) => crashes.push(String(err?.stack ?? err)));

process.env.FLIGHTDECK_HOME = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-ws-'));
const root = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-ws-ui-'));
writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Flight Deck</title>');
const token = 'bench-token-0123456789abcdefghijklmnop';
const host = await startWebHost({ handlers: createHandlers(nativeApiDeps()), rootDir: root, token });
const port = Number(new URL(host.origin).port);

const keeper = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, ['flightdeck.v1', `flightdeck.token.${token}`], { origin: host.origin });
await new Promise((r) => keeper.once('open', r));

const started = performance.now();
const tally = await runWsFuzz({
  port,
  token,
  seed: SEED,
  n: FUZZ_CASES,
  parallel: 8,
  localAddresses: Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`),
  hangMs: 10_000,
});
const seconds = (performance.now() - started) / 1000;

const reply = new Promise<{ envelope: { ok: boolean } }>((r) => keeper.once('message', (d) => r(JSON.parse(String(d)))));
keeper.send(JSON.stringify({ t: 'call', id: 1, method: 'app.version', input: {} }));
const alive = (await reply).envelope.ok;
keeper.close();
await host.close();

console.log(
  `ws fuzz: ${tally.cases} cases (seed ${SEED}) in ${seconds.toFixed(1)} s (${((seconds * 1e6) / tally.cases).toFixed(0)} µs/case, 8 connections at a time)`,
);
console.log(`  handshake answers: ${JSON.stringify(tally.statuses)}`);
console.log(`  close codes from the host: ${JSON.stringify(tally.closeCodes)}`);
console.log(`  findings: ${tally.bad.length} bad answers or hangs, ${crashes.length} exceptions in the host; client connected throughout answered: ${alive}`);
for (const b of tally.bad.slice(0, 5)) console.log(`  case ${b.index}: ${b.answer.slice(0, 300)} <- ${b.bytes.slice(0, 200)}`);
for (const c of crashes.slice(0, 5)) console.log(`  exception: ${c}`);
recordLoad('at end');
process.exit(tally.bad.length === 0 && crashes.length === 0 && alive ? 0 : 1);
