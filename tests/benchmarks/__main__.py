"""Run every benchmark (or those named) and print one table of figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

from tests.benchmarks.harness import Figure


def main(names: list[str]) -> int:
    import tests.benchmarks as pkg

    modules = sorted(
        m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("bench_")
    )
    if names:
        modules = [m for m in modules if any(n in m for n in names)]
    figures: list[Figure] = []
    failed = 0
    for name in modules:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            figures.extend(importlib.import_module(f"tests.benchmarks.{name}").run())
        except Exception:
            failed += 1
            traceback.print_exc()
    width = max([len(f.name) for f in figures] + [10])
    print(
        f"\n{'benchmark':<{width}}  {'measured':>12}  {'unit':<8}  {'target':>10}  {'ratio':>6}  meets"
    )
    for f in figures:
        target = f"{'>=' if f.higher_is_better else '<='}{f.target:g}" if f.target else ""
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        print(
            f"{f.name:<{width}}  {f.value:>12.4g}  {f.unit:<8}  {target:>10}  {ratio:>6}  {f.meets}  {f.note}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
