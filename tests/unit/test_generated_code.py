"""The committed `oms` package is exactly what `python -m launcher.protogen` makes of `protos/`."""

from __future__ import annotations

from pathlib import Path

from launcher.protogen import GENERATED_PACKAGE, REPO_ROOT, generate


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    generate(tmp_path)

    fresh = files_under(tmp_path / GENERATED_PACKAGE)
    committed = files_under(REPO_ROOT / GENERATED_PACKAGE)
    stale = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not stale, (
        f"generated code is stale ({', '.join(stale)}): run `python -m launcher.protogen`"
    )
