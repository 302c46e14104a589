/**
 * Flight Deploy Protocol messages (docs/protocol.md). Control messages carry a JSON body; the bulk path
 * (DATA, ACK, NAK) is binary. Shared by the host session (core/deploy/session.ts) and the emulator.
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { COMPRESSIONS, DeviceInfoSchema, DeviceStateSchema, Sha256, SlotName, type Compression } from './schema.js';

export const PROTOCOL_VERSION = 1;

/**
 * Every number of the protocol a device vendor sizes firmware by: timeouts, retry counts, frame and block
 * limits, upload defaults. The host session, the fast-reflash planner and the reference emulator read
 * them from here, and the table in docs/protocol.md ("Constants") is generated from this object and
 * PROTOCOL_CONSTANT_DOCS (`npm run docs:protocol`; a unit test fails when it is stale).
 */
export const PROTOCOL_CONSTANTS = {
  replyMs: 5000,
  requestTries: 3,
  ackMs: 2000,
  maxRetries: 10,
  verifyBytesPerSecond: 50_000_000,
  rateProbeMs: 1000,
  rateProbeTries: 3,
  rateFallbackMs: 3500,
  rateTurnaroundMs: 50,
  checkpointMs: 250,
  checkpointBytes: 16 << 20,
  hostMaxFrame: 1 << 20,
  minMaxFrame: 1024,
  blockHeadroom: 64,
  minBlockSize: 512,
  serialBlockSize: 16 << 10,
  serialWindow: 4,
  streamBlockSize: 64 << 10,
  streamWindow: 16,
  deltaMinBlockSize: 4096,
  maxBlockHashes: 4096,
} as const;

/** What each constant means, with its unit: the "Constants" table of docs/protocol.md. */
export const PROTOCOL_CONSTANT_DOCS: Record<keyof typeof PROTOCOL_CONSTANTS, { unit: string; meaning: string }> = {
  replyMs: {
    unit: 'ms',
    meaning:
      'The host waits this long for the reply to a control request (HELLO, BEGIN, END, COMMIT, ROLLBACK, STATUS, HASHES) before it sends the request again.',
  },
  requestTries: {
    unit: 'tries',
    meaning:
      'Copies of one control request the host sends (the first and the resends) before `DEVICE_TIMEOUT`. A device must answer a repeated request as the first (idempotent).',
  },
  ackMs: {
    unit: 'ms',
    meaning:
      'During the upload, the host goes back to the acknowledged offset when the oldest DATA in flight is not acknowledged within this long plus the line time of the bytes in flight.',
  },
  maxRetries: { unit: 'go-backs', meaning: 'Go-backs (NAK or ack timeout) in a row without progress before the host stops the upload with `DEVICE_TIMEOUT`.' },
  verifyBytesPerSecond: {
    unit: 'bytes/s',
    meaning: 'END may take `replyMs` plus the payload size at this rate: the time a device has to hash and check the payload before it answers VERIFIED.',
  },
  rateProbeMs: {
    unit: 'ms',
    meaning:
      'After RATE_OK the host says HELLO at the new rate every this long; when waiting for the device to fall back, it says HELLO at the old rate as often.',
  },
  rateProbeTries: { unit: 'HELLOs', meaning: 'HELLOs the host sends at the new line rate before it goes back to the old one.' },
  rateFallbackMs: {
    unit: 'ms',
    meaning:
      'A device that hears no good frame at a new line rate for this long goes back to the old rate (longer than the host probes, so both end at the old rate).',
  },
  rateTurnaroundMs: {
    unit: 'ms',
    meaning: 'The device waits this long after sending RATE_OK before it changes its rate (changing the rate flushes the port).',
  },
  checkpointMs: {
    unit: 'ms',
    meaning:
      'The reference device makes the upload durable (fsync, journal) at least this often while bytes arrive; a device may do it more often. READY `offset` after a cut is the last durable mark.',
  },
  checkpointBytes: { unit: 'bytes', meaning: 'The reference device also makes the upload durable every this many bytes.' },
  hostMaxFrame: {
    unit: 'wire bytes',
    meaning: 'The longest frame the host accepts from a device (escaped, with both delimiters). A device never sends a longer one.',
  },
  minMaxFrame: { unit: 'wire bytes', meaning: 'The smallest `INFO.maxFrame` a device may announce.' },
  blockHeadroom: {
    unit: 'bytes',
    meaning: '`BEGIN.blockSize` is at most `INFO.maxFrame` less this (DATA header, type, CRC, delimiters); a larger one is refused with `PROTOCOL`.',
  },
  minBlockSize: { unit: 'bytes', meaning: 'The smallest `BEGIN.blockSize` the host asks for, and the smallest `HASHES.blockSize`.' },
  serialBlockSize: { unit: 'bytes', meaning: 'Block size the host picks on a serial line (`INFO.lineRate` > 0), capped by `maxFrame − blockHeadroom`.' },
  serialWindow: { unit: 'DATA frames', meaning: 'DATA frames the host keeps in flight on a serial line.' },
  streamBlockSize: { unit: 'bytes', meaning: 'Block size the host picks on TCP and USB (`INFO.lineRate` 0), capped by `maxFrame − blockHeadroom`.' },
  streamWindow: { unit: 'DATA frames', meaning: 'DATA frames the host keeps in flight on TCP and USB.' },
  deltaMinBlockSize: {
    unit: 'bytes',
    meaning: 'Fast reflash: HASHES asks for blocks of this size, doubled until the payload has at most `maxBlockHashes` blocks.',
  },
  maxBlockHashes: { unit: 'hashes', meaning: 'The most block hashes one BLOCKS carries; a device refuses (`PROTOCOL`) a HASHES that would need more.' },
};

export const Msg = {
  HELLO: 0x01,
  INFO: 0x02,
  SET_RATE: 0x03,
  RATE_OK: 0x04,
  BEGIN: 0x10,
  READY: 0x11,
  DATA: 0x12,
  ACK: 0x13,
  NAK: 0x14,
  END: 0x15,
  VERIFIED: 0x16,
  COMMIT: 0x17,
  COMMITTED: 0x18,
  ROLLBACK: 0x19,
  STATUS: 0x1a,
  STATE: 0x1b,
  HASHES: 0x1c,
  BLOCKS: 0x1d,
  RUN: 0x20,
  LOG: 0x21,
  EXIT: 0x22,
  MONITOR: 0x23,
  MONITOR_END: 0x24,
  ERROR: 0x7f,
} as const;
export type MsgType = (typeof Msg)[keyof typeof Msg];

export const MSG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Msg).map(([k, v]) => [v, k]));

export { COMPRESSIONS, SlotName, type Compression, type DeviceInfo, type DeviceState } from './schema.js';
const CODEC: Record<Compression, number> = { none: 0, deflate: 1, br: 2 };

/** The device's id of one upload (READY, VERIFIED, COMMIT, COMMITTED). */
const UploadId = z.string().regex(/^[0-9a-f]{32}$/);

/** Body of INFO (the schema lives in core/deploy/schema.ts). */
export const InfoSchema = DeviceInfoSchema;

/** Protocol features a device may announce in INFO (docs/protocol.md, "Features"). */
export const FEATURES = {
  /** HASHES/BLOCKS and BEGIN.delta: fast reflash of the blocks that differ from the active payload. */
  blockHashes: 'block-hashes',
  /** STATE and COMMITTED carry `activeHash`, the device's own SHA-256 of the active slot's bytes. */
  slotHash: 'slot-hash',
} as const;

export const HelloSchema = z.object({ version: z.number().int().positive().describe('Protocol version the host speaks (1).') });
/** Requests and replies without content: END, STATUS, RUN, MONITOR_END. Unknown fields are ignored. */
export const EmptySchema = z.object({});
export const SetRateSchema = z.object({ baud: z.number().int().positive().describe('Line rate in baud (one of INFO.lineRates).') });

/**
 * After SET_RATE, a device that hears no good frame at the new rate for this long falls back to the old
 * rate (docs/protocol.md, "Line rate"). Part of the protocol: the emulator's device and the host session
 * both keep to it.
 */
export const RATE_FALLBACK_MS = PROTOCOL_CONSTANTS.rateFallbackMs;

export const BeginSchema = z.object({
  sha256: Sha256.describe('SHA-256 of the whole uncompressed payload: 64 lowercase hex digits.'),
  size: z.number().int().positive().describe('Payload size in bytes (uncompressed).'),
  blockSize: z.number().int().positive().describe('Largest block (uncompressed bytes) one DATA carries; at most INFO.maxFrame - 64.'),
  compression: z.enum(COMPRESSIONS).describe('Codec of the DATA blocks that shrink (a block that does not shrink goes as it is, codec 0).'),
  /** Discard any partial upload of this payload instead of resuming it. */
  fresh: z.boolean().describe('true: discard any partial upload of this payload and start at 0 (--no-resume).'),
  /**
   * Fast reflash: start from a copy of the active payload `base` and send only the listed blocks (indices
   * in units of blockSize, ascending); DATA offsets then count bytes of those blocks, one after another.
   */
  delta: z
    .object({
      base: Sha256.describe('SHA-256 of the active payload (BLOCKS.sha256) the upload starts from.'),
      blocks: z.array(z.number().int().nonnegative()).describe('Ascending indices (units of blockSize) of the blocks the DATA stream carries.'),
    })
    .optional()
    .describe('Fast reflash (feature block-hashes).'),
});
export type Begin = z.infer<typeof BeginSchema>;

export const ReadySchema = z.object({
  slot: SlotName,
  /** Bytes of this payload the device already holds (the host sends from here). */
  offset: z
    .number()
    .int()
    .nonnegative()
    .describe(
      'state "upload": bytes of the upload stream the device holds durably (the host sends from here; 0 for a delta); "verified" and "active": BEGIN.size.',
    ),
  /** `active`: the payload is already the committed one; `verified`: it waits in the inactive slot. */
  state: z
    .enum(['upload', 'verified', 'active'])
    .describe('upload: send DATA from offset; verified: waits in the inactive slot, send END; active: already committed.'),
  /**
   * The device's id for this upload (states `upload` and `verified`): from BEGIN to COMMIT the device is
   * this host's; VERIFIED and COMMIT name it, so a host commits only what it uploaded.
   */
  upload: UploadId.optional().describe('The device id of this upload, 32 lowercase hex digits: required for states upload and verified.'),
});
export type Ready = z.infer<typeof ReadySchema>;

export const VerifiedSchema = z.object({ sha256: Sha256, slot: SlotName, upload: UploadId });
/** COMMIT names the upload (READY.upload) whose verified payload becomes active. */
export const CommitSchema = z.object({ sha256: Sha256, upload: UploadId });

/** Body of STATE (the schema lives in core/deploy/schema.ts). */
export const StateSchema = DeviceStateSchema;
/** COMMITTED: the device state and the upload this COMMIT made active. */
export const CommittedSchema = StateSchema.extend({ committed: z.object({ sha256: Sha256, upload: UploadId }) });

/**
 * ROLLBACK names the payload that becomes active (the previous one, in the inactive slot), so a resent
 * ROLLBACK whose STATE was lost finds it already active and changes nothing (it never swaps back).
 */
export const RollbackSchema = z.object({ sha256: Sha256.describe('The payload to make active: the one in the inactive slot (STATE.slots).') });

/** HASHES: the host asks for the SHA-256 of each block of the active payload. */
export const HashesSchema = z.object({
  blockSize: z.number().int().min(PROTOCOL_CONSTANTS.minBlockSize).describe('Block size in bytes; the active payload has at most 4096 blocks of it.'),
});
/** BLOCKS: the active payload (null: none) and the hex SHA-256 of each of its blocks. */
export const BlocksSchema = z.object({
  sha256: Sha256.nullable(),
  size: z.number().int().nonnegative(),
  blockSize: z.number().int().positive(),
  hashes: z
    .array(Sha256)
    .max(PROTOCOL_CONSTANTS.maxBlockHashes)
    .describe('SHA-256 (64 lowercase hex digits) of bytes [i*blockSize, min((i+1)*blockSize, size)) of the active payload, for each block i.'),
});
export type Blocks = z.infer<typeof BlocksSchema>;

export const LogSchema = z.object({ stream: z.enum(['stdout', 'stderr', 'device']), text: z.string() });
export type LogLine = z.infer<typeof LogSchema>;
export const ExitSchema = z.object({ code: z.number().int() });
export const MonitorSchema = z.object({ follow: z.boolean() });

/** Why a device said no. */
export const DEVICE_ERRORS = ['REFUSED', 'VERIFY_FAILED', 'PROTOCOL', 'BUSY'] as const;
export const ErrorSchema = z.object({ code: z.enum(DEVICE_ERRORS), message: z.string() });
export type DeviceErrorBody = z.infer<typeof ErrorSchema>;

/**
 * The JSON body of each control message, by name (docs/protocol.md, "Messages"). DATA, ACK and NAK are
 * binary. docs/schemas/protocol/<NAME>.json are generated from these (`npm run docs:protocol`).
 */
export const MESSAGE_SCHEMAS = {
  HELLO: HelloSchema,
  INFO: InfoSchema,
  SET_RATE: SetRateSchema,
  RATE_OK: SetRateSchema,
  BEGIN: BeginSchema,
  READY: ReadySchema,
  END: EmptySchema,
  VERIFIED: VerifiedSchema,
  COMMIT: CommitSchema,
  COMMITTED: CommittedSchema,
  ROLLBACK: RollbackSchema,
  STATUS: EmptySchema,
  STATE: StateSchema,
  HASHES: HashesSchema,
  BLOCKS: BlocksSchema,
  RUN: EmptySchema,
  LOG: LogSchema,
  EXIT: ExitSchema,
  MONITOR: MonitorSchema,
  MONITOR_END: EmptySchema,
  ERROR: ErrorSchema,
} satisfies Partial<Record<keyof typeof Msg, z.ZodType>>;

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Parse a JSON body against a schema; undefined when it does not fit. */
export function parseBody<T>(schema: z.ZodType<T>, body: Uint8Array): T | undefined {
  const r = parseMessage(schema, body, 'body');
  return r.ok ? r.value : undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Parse a JSON body against its schema; when it does not fit, say which field and what is wrong with it,
 * named as in docs/protocol.md: `INFO.lineRate: expected number, got null`, `BEGIN.compression: expected
 * one of none|deflate|br, got "zip"`, `READY.upload: required, got nothing`.
 */
export function parseMessage<T>(schema: z.ZodType<T>, body: Uint8Array, name: string): Parsed<T> {
  let input: unknown;
  try {
    input = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    return { ok: false, problem: `${name}: not JSON (${(err as Error).message})` };
  }
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const problems = r.error.issues.slice(0, 3).map((issue) => {
    const where = [name, ...issue.path.map(String)].join('.');
    const value = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
    const got = `got ${show(value)}`;
    if (issue.code === 'invalid_type')
      return value === undefined ? `${where}: required (${issue.expected}), got nothing` : `${where}: expected ${issue.expected}, ${got}`;
    if (issue.code === 'invalid_value') return `${where}: expected one of ${issue.values.map((v) => String(v)).join('|')}, ${got}`;
    if (issue.code === 'invalid_format' && issue.format === 'regex') return `${where}: expected a string matching ${issue.pattern ?? 'its pattern'}, ${got}`;
    return `${where}: ${issue.message.replace(/^Too (big|small): /, '').replace(/^Invalid input: /, '')}, ${got}`;
  });
  const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
  return { ok: false, problem: problems.join('; ') + more };
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

// --- DATA: offset:u32le | rawLength:u32le | codec:u8 | bytes -----------------------------------------

export interface DataBlock {
  offset: number;
  rawLength: number;
  codec: Compression;
  bytes: Buffer;
}

export const DATA_HEADER = 9;

export function encodeData(offset: number, raw: Buffer, compression: Compression): Buffer {
  let codec: Compression = 'none';
  let bytes = raw;
  if (compression !== 'none') {
    const packed = compress(raw, compression);
    if (packed.length < raw.length) {
      codec = compression;
      bytes = packed;
    }
  }
  const out = Buffer.allocUnsafe(DATA_HEADER + bytes.length);
  out.writeUInt32LE(offset, 0);
  out.writeUInt32LE(raw.length, 4);
  out[8] = CODEC[codec];
  bytes.copy(out, DATA_HEADER);
  return out;
}

export function decodeData(body: Buffer): DataBlock | undefined {
  if (body.length < DATA_HEADER) return undefined;
  const codec = COMPRESSIONS[body[8]!];
  if (codec === undefined) return undefined;
  return { offset: body.readUInt32LE(0), rawLength: body.readUInt32LE(4), codec, bytes: body.subarray(DATA_HEADER) };
}

/**
 * Decompress a block of at most `limit` bytes (the device passes the smaller of the space left in the
 * upload and the upload's block size); undefined when it claims more, or does not inflate to exactly
 * `rawLength`. Inflation stops at the limit, so a block that claims little and inflates to a lot (a
 * deflate or brotli bomb) never allocates more than `limit` bytes, whatever `rawLength` says.
 */
export function unpackBlock(block: DataBlock, limit: number): Buffer | undefined {
  if (block.rawLength === 0 || block.rawLength > limit) return undefined;
  try {
    const raw =
      block.codec === 'none'
        ? block.bytes
        : block.codec === 'deflate'
          ? inflateRawSync(block.bytes, { maxOutputLength: block.rawLength })
          : brotliDecompressSync(block.bytes, { maxOutputLength: block.rawLength });
    return raw.length === block.rawLength ? raw : undefined;
  } catch {
    return undefined;
  }
}

function compress(raw: Buffer, compression: Exclude<Compression, 'none'>): Buffer {
  return compression === 'deflate'
    ? deflateRawSync(raw, { level: 6 })
    : brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
}

export function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}
