#!/usr/bin/env python3
"""Writes the seeds of fuzz_presigned_url: inputs laid out as LLVM's FuzzedDataProvider reads
them (integers and booleans from the end, strings from the front), so each seed is one
meaningful request: an untouched signed PUT or GET, an altered one, one used too late, and an
unsigned request. Usage: make_presigned_url_seeds.py OUT_DIR
"""
import pathlib
import sys


class Input:
    def __init__(self):
        self.front = b""
        self.back = []  # bytes in the order the provider consumes them (from the end)

    def string(self, s: bytes):
        # ConsumeRandomLengthString: a backslash is doubled, "\\" + another byte ends it.
        self.front += s.replace(b"\\", b"\\\\") + b"\\x"

    def integer(self, value: int, lo: int, hi: int):
        span, offset, raw = hi - lo, value - lo, []
        n = 0
        while n < 8 and (span >> (8 * n)) > 0:
            n += 1
        for i in reversed(range(n)):
            raw.append((offset >> (8 * i)) & 0xFF)
        self.back += raw

    def boolean(self, b: bool):
        self.back.append(1 if b else 0)

    def bytes(self, rest: bytes = b"") -> bytes:
        return self.front + rest + bytes(reversed(self.back))


KEY = b"uploads/0123456789abcdef0123456789abcdef/My Song.mp3"
METHODS = ["GET", "PUT", "HEAD", "DELETE", "POST"]


def signed(put, ttl, size, key, alteration=0, alter=None, offset=10, name=b"My Song (8D).mp3"):
    d = Input()
    d.boolean(True)
    d.boolean(put)
    d.integer(ttl, 1, 7 * 24 * 3600)
    d.integer(size, 0, 200 * 1024 * 1024)
    if not put:
        d.string(name)
    d.string(key)
    d.integer(alteration, 0, 6)
    if alter:
        alter(d)
    d.integer(offset, -3600, 8 * 24 * 3600)
    return d.bytes()


def unsigned(method, target, content_length=None):
    d = Input()
    d.boolean(False)
    d.integer(METHODS.index(method), 0, len(METHODS) - 1)
    d.boolean(content_length is not None)
    if content_length is not None:
        d.string(content_length)
    d.boolean(False)
    return d.bytes(target)


seeds = {
    "put-untouched": signed(True, 900, 5_000_000, KEY),
    "get-untouched": signed(False, 3600, 0, b"processed/0123456789abcdef0123456789abcdef/My Song (8D).mp3"),
    "get-byte-replaced": signed(False, 3600, 0, KEY, 1,
                                lambda d: (d.integer(60, 0, 300), d.integer(ord("A"), 0, 255))),
    "put-other-size": signed(True, 900, 1000, KEY, 5, lambda d: d.string(b"1001")),
    "put-as-get": signed(True, 900, 1000, KEY, 4, lambda d: d.integer(0, 0, 4)),
    "put-too-late": signed(True, 900, 1000, KEY, offset=2000),
    "unsigned-get": unsigned(
        "GET",
        b"uploads/x/a.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=surroundyou%2F20260101"
        b"%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900"
        b"&X-Amz-SignedHeaders=host&X-Amz-Signature=" + b"0" * 64),
    "unsigned-put": unsigned("PUT", b"uploads/x/a.mp3?X-Amz-Expires=-1", b"12"),
}
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
for name, data in seeds.items():
    (out / name).write_bytes(data)
