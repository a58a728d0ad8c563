"""`python -m tests.mutation declared ...` (hazard-log mutants) or `... broad ...` (score)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("declared", "broad"):
        print("usage: python -m tests.mutation {declared,broad} [options]", file=sys.stderr)
        return 2
    if argv[0] == "declared":
        from tests.mutation import declared

        return declared.main(argv[1:])
    from tests.mutation import broad

    return broad.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
