"""The clients' GraphQL documents, read from the shared contract: the bench sends what they send."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    parse,
    print_ast,
)
from graphql.language import FragmentSpreadNode, Visitor, visit

from bench.system import REPO_ROOT


def contract_dir() -> Path:
    """`OMS_CONTRACT_DIR`, else `shared/contract` beside the repository (as the contract test)."""
    configured = os.environ.get("OMS_CONTRACT_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "contract"


@cache
def _contract() -> DocumentNode:
    folder = contract_dir()
    files = sorted(folder.glob("*.graphql"))
    if not files:
        raise FileNotFoundError(f"no contract documents in {folder} (set OMS_CONTRACT_DIR)")
    return parse("\n".join(path.read_text() for path in files))


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def operation(name: str) -> str:
    """The named operation with every fragment it spreads, as one sendable document."""
    definitions = _contract().definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    found = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((d for d in found if d.name and d.name.value == name), None)
    if chosen is None:
        raise KeyError(f"no operation {name} in the contract")
    parts: list[ExecutableDefinitionNode] = [chosen]
    seen: set[str] = set()
    pending: list[ExecutableDefinitionNode] = [chosen]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for fragment in sorted(spreads.names - seen):
            seen.add(fragment)
            parts.append(fragments[fragment])
            pending.append(fragments[fragment])
    return "\n\n".join(print_ast(part) for part in parts)
