"""What `make test-latest` installed, against the pins of constraints.txt: the packages whose version moved.

python bench/versions.py constraints.txt .venv-latest/versions.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def pins(path: Path) -> dict[str, str]:
    """{normalised name: version} of a `name==version` list (comments and blank lines skipped)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, _, version = line.partition("==")
        if version and not line.startswith("#"):
            found[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return found


def main(pinned_path: str, latest_path: str) -> None:
    pinned, latest = pins(Path(pinned_path)), pins(Path(latest_path))
    moved = [(name, pinned[name], latest[name]) for name in sorted(pinned.keys() & latest.keys())
             if pinned[name] != latest[name]]  # fmt: skip
    both = len(pinned.keys() & latest.keys())
    print(f"{len(moved)} of {both} packages installed here differ from the pins of {pinned_path}:")
    for name, before, after in moved:
        print(f"  {name:<40} {before:>16} -> {after}")
    if latest.keys() - pinned.keys():
        print(f"  not pinned: {', '.join(sorted(latest.keys() - pinned.keys()))}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
