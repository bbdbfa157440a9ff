#!/usr/bin/env python3
"""Fails when a library includes a header from a layer above its own (docs/ARCHITECTURE.md).

A folder may include its own headers and those of lower layers only; folders on the same
layer stay apart (the engine does no I/O; the queue does not know the object store).
tests/, bench/ and fuzz/ sit on top and may include anything.
"""
import pathlib
import re
import sys

LAYERS = {
    "base": 0,
    "engine": 1, "io": 1,
    "pipeline": 2, "storage": 2, "queue": 2,
    "worker": 3,
    "service": 4,
    "cli": 5,
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)/[^"]*"')


def main(root: pathlib.Path) -> int:
    problems = []
    for folder, rank in LAYERS.items():
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".h", ".cc", ".cpp", ".hpp"):
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m or m.group(1) not in LAYERS or m.group(1) == folder:
                    continue
                target = m.group(1)
                if LAYERS[target] >= rank:
                    where = path.relative_to(root)
                    problems.append(f"{where}:{number}: {folder}/ (layer {rank}) includes "
                                    f"{target}/ (layer {LAYERS[target]}): {line.strip()}")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) against the layering", file=sys.stderr)
        return 1
    print("layering holds: no upward or sideways includes")
    return 0


def self_test() -> int:
    """The check must catch an upward include, or it proves nothing."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "worker").mkdir()
        (root / "worker" / "pool.cc").write_text('#include "service/log.h"\n')
        if main(root) == 0:
            print("self-test: an upward include went unnoticed", file=sys.stderr)
            return 1
        (root / "worker" / "pool.cc").write_text('#include "base/log.h"\n#include "worker/pool.h"\n')
        if main(root) != 0:
            print("self-test: a downward include was refused", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
