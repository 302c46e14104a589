#!/usr/bin/env python3
"""A minimal Flight Deploy Protocol v1 device, written from docs/protocol.md alone, in the Python standard
library: TCP, SLIP + CRC-32 framing, A/B slots on disk with an upload journal, resume, one host at a
time, idempotent requests, limits checked at END (a small WASM memory reader). No WASM runtime: RUN logs
a line and exits 0. It offers the feature `slot-hash` (not `block-hashes`) and compression none and
deflate (no brotli in the standard library).

CI runs `flightdeck device conformance` against it: the spec is implementable without the reference
source. Usage:
    python3 device.py --state DIR [--port 0] [--platform v6r-small] [--memory BYTES] [--threads N]
                      [--max-frame BYTES] [--bug rollback-swap]
Prints one JSON line {"uri": "tcp://127.0.0.1:PORT"} when it listens; stops on SIGTERM.
"""
import argparse
import hashlib
import json
import os
import secrets
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD
HELLO, INFO, SET_RATE, RATE_OK = 0x01, 0x02, 0x03, 0x04
BEGIN, READY, DATA, ACK, NAK, END_MSG, VERIFIED, COMMIT, COMMITTED = 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18
ROLLBACK, STATUS, STATE, HASHES, BLOCKS = 0x19, 0x1A, 0x1B, 0x1C, 0x1D
RUN, LOG, EXIT, MONITOR, MONITOR_END, ERROR = 0x20, 0x21, 0x22, 0x23, 0x24, 0x7F
BLOCK_HEADROOM = 64
CHECKPOINT_SECONDS = 0.25
HEX64 = set("0123456789abcdef")


class Refusal(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def is_sha(v):
    return isinstance(v, str) and len(v) == 64 and set(v) <= HEX64


def is_int(v, minimum=0):
    return isinstance(v, int) and not isinstance(v, bool) and v >= minimum


# --- framing ---------------------------------------------------------------------------------------


def encode_frame(ftype, body):
    raw = bytes([ftype]) + body
    raw += struct.pack("<I", zlib.crc32(raw) & 0xFFFFFFFF)
    out = bytearray([END])
    for b in raw:
        if b == END:
            out += bytes([ESC, ESC_END])
        elif b == ESC:
            out += bytes([ESC, ESC_ESC])
        else:
            out.append(b)
    out.append(END)
    return bytes(out)


class Decoder:
    """Frames of at most max_frame wire bytes (both delimiters included); others are dropped and counted."""

    def __init__(self, max_frame):
        self.max_frame = max_frame
        self.buf = bytearray()
        self.overflow = False
        self.dropped = 0

    def push(self, chunk):
        frames = []
        start = 0
        while True:
            i = chunk.find(bytes([END]), start)
            if i == -1:
                self._append(chunk[start:])
                return frames
            self._append(chunk[start:i])
            f = self._finish()
            if f is not None:
                frames.append(f)
            start = i + 1

    def _append(self, part):
        if not part or self.overflow:
            return
        if len(self.buf) + len(part) > self.max_frame - 2:
            self.overflow = True
            self.buf = bytearray()
            return
        self.buf += part

    def _finish(self):
        escaped, overflow = bytes(self.buf), self.overflow
        self.buf, self.overflow = bytearray(), False
        if overflow:
            self.dropped += 1
            return None
        if not escaped:
            return None
        raw = bytearray()
        i = 0
        while i < len(escaped):
            b = escaped[i]
            if b == ESC:
                n = escaped[i + 1] if i + 1 < len(escaped) else None
                if n == ESC_END:
                    raw.append(END)
                elif n == ESC_ESC:
                    raw.append(ESC)
                else:
                    self.dropped += 1
                    return None
                i += 2
            else:
                raw.append(b)
                i += 1
        if len(raw) < 5 or zlib.crc32(bytes(raw[:-4])) & 0xFFFFFFFF != struct.unpack("<I", raw[-4:])[0]:
            self.dropped += 1
            return None
        return raw[0], bytes(raw[1:-4])


# --- WASM limits (the memory section and imported memories) ------------------------------------------


def leb(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated LEB128")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def limits(data, pos):
    flags = data[pos]
    pos += 1
    minimum, pos = leb(data, pos)
    if flags & 0x01:
        _, pos = leb(data, pos)
    return {"shared": bool(flags & 0x02), "memory64": bool(flags & 0x04), "bytes": minimum * 65536}, pos


def wasm_memories(data):
    if data[:8] != b"\x00asm\x01\x00\x00\x00":
        raise ValueError("not a WebAssembly core module (magic/version)")
    pos, memories = 8, []
    while pos < len(data):
        sid = data[pos]
        size, pos = leb(data, pos + 1)
        end = pos + size
        if end > len(data):
            raise ValueError("section past the end")
        if sid == 2:  # imports
            count, p = leb(data, pos)
            for _ in range(count):
                for _ in range(2):
                    n, p = leb(data, p)
                    p += n
                kind = data[p]
                p += 1
                if kind == 0:
                    _, p = leb(data, p)
                elif kind == 1:
                    _, p = limits(data, p + 1)
                elif kind == 2:
                    m, p = limits(data, p)
                    memories.append(m)
                elif kind == 3:
                    p += 2
                elif kind == 4:
                    _, p = leb(data, p + 1)
                else:
                    raise ValueError("unknown import kind")
        elif sid == 5:  # memories
            count, p = leb(data, pos)
            for _ in range(count):
                m, p = limits(data, p)
                memories.append(m)
        pos = end
    return memories


# --- the device ----------------------------------------------------------------------------------


class Device:
    def __init__(self, args):
        self.a = args
        self.lock = threading.RLock()
        self.dir = args.state
        os.makedirs(os.path.join(self.dir, "slots"), exist_ok=True)
        self.state = self._read("state.json") or {"active": None, "slots": {"A": None, "B": None}}
        self.journal = self._read("upload.json")
        self.upload = None  # the upload in progress in this run
        self.claim = None  # {"owner", "id", "sha256", "verified"}
        self.last_commit = None
        self.history = []
        self.monitors = set()

    # files
    def path(self, *p):
        return os.path.join(self.dir, *p)

    def _read(self, name):
        try:
            with open(self.path(name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def _write_atomic(self, name, value):
        tmp = self.path(name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(value, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path(name))
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_state(self, state):
        self._write_atomic("state.json", state)
        self.state = state

    def write_journal(self, journal):
        if journal is None:
            try:
                os.remove(self.path("upload.json"))
            except OSError:
                pass
        else:
            self._write_atomic("upload.json", journal)
        self.journal = journal

    def inactive(self):
        return "B" if self.state["active"] == "A" else "A"

    def slot_file(self, slot):
        return self.path("slots", slot + ".wasm")

    def partial_file(self, slot):
        return self.path("slots", slot + ".partial")

    def hash_file(self, file):
        h = hashlib.sha256()
        with open(file, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def active_sha(self):
        a = self.state["active"]
        return self.state["slots"][a]["sha256"] if a and self.state["slots"][a] else None

    def snapshot(self):
        a = self.state["active"]
        up = None
        if self.journal:
            up = {k: self.journal[k] for k in ("sha256", "size", "slot", "durable")}
        return {
            "platform": self.a.platform,
            "active": a,
            "slots": self.state["slots"],
            "upload": up,
            "activeHash": self.hash_file(self.slot_file(a)) if a and self.state["slots"][a] else None,
        }

    def info(self):
        return {
            "version": 1,
            "platform": self.a.platform,
            "memory": self.a.memory,
            "threads": self.a.threads,
            "slots": 2,
            "maxFrame": self.a.max_frame,
            "compression": ["none", "deflate"],
            "lineRates": [],
            "lineRate": 0,
            "firmware": "flightdeck-conformance-python 1",
            "serial": "PY-" + hashlib.sha256(self.dir.encode()).hexdigest()[:8].upper(),
            "features": ["slot-hash"],
        }

    # claims
    def claimed_by_other(self, conn):
        c = self.claim
        if c and c["owner"].closed:
            self.claim = c = None
        return c if c and c["owner"] is not conn else None

    def refuse_if_busy(self, conn, what):
        other = self.claimed_by_other(conn)
        if other:
            raise Refusal("BUSY", "another host is deploying sha256:%s; %s refused" % (other["sha256"][:12], what))

    def checkpoint(self, u):
        if u.get("file") is None or (self.journal and self.journal.get("durable") == u["received"]):
            return
        u["file"].flush()
        os.fsync(u["file"].fileno())
        self.write_journal({"sha256": u["sha256"], "size": u["size"], "slot": u["slot"], "durable": u["received"]})
        u["checkpoint"] = time.monotonic()

    def close_upload(self):
        if self.upload and self.upload.get("file"):
            self.upload["file"].close()
        self.upload = None

    def discard_upload(self):
        if self.journal:
            try:
                os.remove(self.partial_file(self.journal["slot"]))
            except OSError:
                pass
        self.write_journal(None)

    def clear_slot(self, slot):
        if self.state["slots"][slot]:
            s = json.loads(json.dumps(self.state))
            s["slots"][slot] = None
            self.write_state(s)
        try:
            os.remove(self.slot_file(slot))
        except OSError:
            pass

    # messages
    def handle(self, conn, ftype, body):
        if ftype == DATA:
            return self.data(conn, body)
        try:
            req = json.loads(body.decode("utf-8")) if body else {}
        except ValueError:
            raise Refusal("PROTOCOL", "body is not JSON")
        if not isinstance(req, dict):
            raise Refusal("PROTOCOL", "body is not a JSON object")
        if ftype == HELLO:
            return conn.send(INFO, self.info())
        if ftype == STATUS:
            return conn.send(STATE, self.snapshot())
        if ftype == BEGIN:
            return self.begin(conn, req)
        if ftype == END_MSG:
            return self.end(conn)
        if ftype == COMMIT:
            return self.commit(conn, req)
        if ftype == ROLLBACK:
            return self.rollback(conn, req)
        if ftype == RUN:
            return self.run(conn)
        if ftype == MONITOR:
            if not isinstance(req.get("follow"), bool):
                raise Refusal("PROTOCOL", "malformed MONITOR: MONITOR.follow: expected boolean")
            for line in self.history:
                conn.send(LOG, line)
            if req["follow"]:
                self.monitors.add(conn)
            else:
                conn.send(MONITOR_END, {})
            return
        if ftype == SET_RATE:
            raise Refusal("REFUSED", "this connection has no line rate")
        raise Refusal("PROTOCOL", "unexpected message 0x%02x" % ftype)

    def begin(self, conn, req):
        sha, size, bs, comp = req.get("sha256"), req.get("size"), req.get("blockSize"), req.get("compression")
        if not is_sha(sha) or not is_int(size, 1) or not is_int(bs, 1) or comp not in ("none", "deflate", "br") or not isinstance(req.get("fresh"), bool):
            raise Refusal("PROTOCOL", "malformed BEGIN")
        if req.get("delta") is not None:
            raise Refusal("REFUSED", "this device does not offer block-hashes (no delta)")
        if bs > self.a.max_frame - BLOCK_HEADROOM:
            raise Refusal("PROTOCOL", "BEGIN.blockSize: %d is over maxFrame - 64" % bs)
        self.refuse_if_busy(conn, "BEGIN")
        if size > self.a.memory:
            raise Refusal("REFUSED", "payload of %d bytes exceeds the %d bytes of memory" % (size, self.a.memory))
        if self.active_sha() == sha:
            if self.claim and self.claim["owner"] is conn:
                self.claim = None
            return conn.send(READY, {"slot": self.state["active"], "offset": size, "state": "active"})
        if not (self.claim and self.claim["owner"] is conn and self.claim["sha256"] == sha):
            self.claim = {"owner": conn, "id": secrets.token_hex(16), "sha256": sha, "verified": False}
        self.claim["verified"] = False
        slot = self.inactive()
        held = self.state["slots"][slot]
        if held and held["sha256"] == sha and not req["fresh"]:
            return conn.send(READY, {"slot": slot, "offset": size, "state": "verified", "upload": self.claim["id"]})
        u = self.upload
        if u and u["sha256"] == sha and u["size"] == size and not req["fresh"]:
            offset = u["received"]
            u["owner"], u["max_block"], u["naked"] = conn, bs, -1
        else:
            self.close_upload()
            j, offset = self.journal, 0
            partial = self.partial_file(slot)
            have = os.path.getsize(partial) if os.path.exists(partial) else -1
            if j and j["sha256"] == sha and j["slot"] == slot and j["size"] == size and not req["fresh"] and have >= j["durable"]:
                offset = j["durable"]
            else:
                self.discard_upload()
                self.clear_slot(slot)
                self.write_journal({"sha256": sha, "size": size, "slot": slot, "durable": 0})
            f = open(partial, "r+b" if offset else "wb")
            f.truncate(offset)
            self.upload = {"sha256": sha, "size": size, "slot": slot, "received": offset, "file": f, "owner": conn, "max_block": bs, "naked": -1, "checkpoint": time.monotonic()}
        conn.send(READY, {"slot": slot, "offset": offset, "state": "upload", "upload": self.claim["id"]})

    def data(self, conn, body):
        u = self.upload
        if not u or u["owner"] is not conn or u.get("file") is None:
            return
        if len(body) < 9 or body[8] > 2:
            raise Refusal("PROTOCOL", "malformed DATA")
        offset, raw_len, codec = struct.unpack("<IIB", body[:9])
        if offset < u["received"]:
            return conn.send_raw(ACK, struct.pack("<I", u["received"]))
        if offset > u["received"]:
            return self.nak(conn)
        limit = min(u["size"] - u["received"], u["max_block"])
        raw = None
        if 0 < raw_len <= limit:
            try:
                if codec == 0:
                    raw = body[9:]
                elif codec == 1:
                    d = zlib.decompressobj(-15)
                    raw = d.decompress(body[9:], raw_len)
            except zlib.error:
                raw = None
        if raw is None or len(raw) != raw_len:
            return self.nak(conn)
        u["file"].seek(u["received"])
        u["file"].write(raw)
        u["received"] += raw_len
        u["naked"] = -1
        if time.monotonic() - u["checkpoint"] >= CHECKPOINT_SECONDS:
            self.checkpoint(u)
        conn.send_raw(ACK, struct.pack("<I", u["received"]))

    def nak(self, conn):
        u = self.upload
        if not u or u["owner"] is not conn or u["naked"] == u["received"]:
            return
        u["naked"] = u["received"]
        conn.send_raw(NAK, struct.pack("<I", u["received"]))

    def end(self, conn):
        self.refuse_if_busy(conn, "END")
        c = self.claim
        if not c or c["owner"] is not conn:
            raise Refusal("PROTOCOL", "END without a BEGIN on this connection")
        u = self.upload
        slot = self.inactive()
        if not u or u["owner"] is not conn:
            held = self.state["slots"][slot]
            if held and held["sha256"] == c["sha256"] and self.hash_file(self.slot_file(slot)) == held["sha256"]:
                c["verified"] = True
                return conn.send(VERIFIED, {"sha256": held["sha256"], "slot": slot, "upload": c["id"]})
            raise Refusal("PROTOCOL", "END without an upload")
        if u["received"] != u["size"]:
            raise Refusal("PROTOCOL", "END at byte %d of %d" % (u["received"], u["size"]))
        self.checkpoint(u)
        self.close_upload()
        partial = self.partial_file(u["slot"])
        actual = self.hash_file(partial)
        if actual != u["sha256"]:
            self.discard_upload()
            raise Refusal("VERIFY_FAILED", "payload hashes to sha256:%s; upload discarded" % actual)
        with open(partial, "rb") as f:
            data = f.read()
        try:
            problems = []
            for m in wasm_memories(data):
                if m["bytes"] > self.a.memory:
                    problems.append("a memory starts at %d bytes; the device gives %d" % (m["bytes"], self.a.memory))
                if m["shared"] and self.a.threads < 2:
                    problems.append("a shared memory needs threads; the device has 1")
        except (ValueError, IndexError) as e:
            problems = ["not a WebAssembly module the device can load: %s" % e]
        if problems:
            self.discard_upload()
            raise Refusal("REFUSED", "; ".join(problems))
        os.replace(partial, self.slot_file(u["slot"]))
        s = json.loads(json.dumps(self.state))
        s["slots"][u["slot"]] = {"sha256": u["sha256"], "size": u["size"]}
        self.write_state(s)
        self.write_journal(None)
        c["verified"] = c["sha256"] == u["sha256"]
        conn.send(VERIFIED, {"sha256": u["sha256"], "slot": u["slot"], "upload": c["id"]})

    def commit(self, conn, req):
        sha, up = req.get("sha256"), req.get("upload")
        if not is_sha(sha) or not isinstance(up, str):
            raise Refusal("PROTOCOL", "malformed COMMIT")
        committed = {"sha256": sha, "upload": up}
        if self.last_commit == committed and self.active_sha() == sha:
            return conn.send(COMMITTED, dict(self.snapshot(), committed=committed))
        self.refuse_if_busy(conn, "COMMIT")
        c = self.claim
        if not c or c["owner"] is not conn or c["id"] != up or c["sha256"] != sha or not c["verified"]:
            raise Refusal("REFUSED", "upload %s is not a verified upload of this connection; nothing committed" % up)
        slot = next((s for s in ("A", "B") if self.state["slots"][s] and self.state["slots"][s]["sha256"] == sha), None)
        if not slot:
            raise Refusal("REFUSED", "no verified payload to commit")
        if self.state["active"] != slot:
            self.write_state(dict(self.state, active=slot))
        self.last_commit, self.claim = committed, None
        conn.send(COMMITTED, dict(self.snapshot(), committed=committed))

    def rollback(self, conn, req):
        sha = req.get("sha256")
        if not is_sha(sha):
            raise Refusal("PROTOCOL", "malformed ROLLBACK: ROLLBACK.sha256: required")
        self.refuse_if_busy(conn, "ROLLBACK")
        other = self.inactive()
        if self.a.bug == "rollback-swap":  # the old, unsafe ROLLBACK {}: swaps on every copy
            if not self.state["slots"][other]:
                raise Refusal("REFUSED", "no previous payload")
            self.write_state(dict(self.state, active=other))
            return conn.send(STATE, self.snapshot())
        if self.active_sha() == sha:
            return conn.send(STATE, self.snapshot())
        held = self.state["slots"][other]
        if not held or held["sha256"] != sha or (self.upload and self.upload["slot"] == other):
            raise Refusal("REFUSED", "no previous payload sha256:%s; nothing changed" % sha)
        self.write_state(dict(self.state, active=other))
        conn.send(STATE, self.snapshot())

    def run(self, conn):
        if not self.active_sha():
            raise Refusal("REFUSED", "no committed payload to run")
        line = {"stream": "device", "text": "run %s (no WASM runtime on this device)\n" % self.active_sha()[:12]}
        self.history = (self.history + [line])[-100:]
        for target in {conn, *self.monitors}:
            if not target.closed:
                target.send(LOG, line)
        conn.send(EXIT, {"code": 0})

    def disconnected(self, conn):
        self.monitors.discard(conn)
        if self.upload and self.upload["owner"] is conn:
            self.checkpoint(self.upload)
        if self.claim and self.claim["owner"] is conn:
            self.claim = None


class Connection(socketserver.BaseRequestHandler):
    def send_raw(self, ftype, body):
        try:
            self.request.sendall(encode_frame(ftype, body))
        except OSError:
            self.closed = True

    def send(self, ftype, value):
        self.send_raw(ftype, json.dumps(value).encode("utf-8"))

    def handle(self):
        device = self.server.device
        self.closed = False
        decoder = Decoder(device.a.max_frame)
        try:
            while True:
                chunk = self.request.recv(65536)
                if not chunk:
                    break
                dropped = decoder.dropped
                frames = decoder.push(chunk)
                with device.lock:
                    if decoder.dropped != dropped:
                        device.nak(self)
                    for ftype, body in frames:
                        try:
                            device.handle(self, ftype, body)
                        except Refusal as r:
                            self.send(ERROR, {"code": r.code, "message": r.message})
                        except OSError as e:
                            self.send(ERROR, {"code": "REFUSED", "message": "device error: %s" % e})
        except OSError:
            pass
        finally:
            self.closed = True
            with device.lock:
                device.disconnected(self)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--state", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--platform", default="v6r-small")
    p.add_argument("--memory", type=int, default=16 << 20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-frame", type=int, default=8192)
    p.add_argument("--bug", choices=["rollback-swap"])
    args = p.parse_args()
    server = Server(("127.0.0.1", args.port), Connection)
    server.device = Device(args)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(json.dumps({"uri": "tcp://127.0.0.1:%d" % server.server_address[1], "pid": os.getpid()}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
