"""The floor for any pure-Python pickle scanner: start Python, read every file under a
directory and walk its opcodes with the standard library's `pickletools.genops`, nothing
else (no verdicts, no report). Timed next to the real tools on the small-pickles case.

    python benchmarks/_pickle_floor.py DIR
"""

from __future__ import annotations

import os
import pickletools
import sys


def main(root: str) -> int:
    opcodes = 0
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                data = handle.read()
            try:
                for _ in pickletools.genops(data):
                    opcodes += 1
            except ValueError:
                continue  # not a pickle, or a broken one: the floor skips it
    print(opcodes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
