"""The clients' GraphQL documents in the shared contract, each operation sendable on its own."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

REPO_ROOT = Path(__file__).resolve().parents[2]


def contract_dir() -> Path:
    """`OMS_CONTRACT_DIR`, else `shared/contract` beside the repository."""
    configured = os.environ.get("OMS_CONTRACT_DIR")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "contract"
    if not (path / "types.graphql").is_file():
        raise FileNotFoundError(f"contract not found at {path} (set OMS_CONTRACT_DIR)")
    return path


def client_documents() -> dict[str, DocumentNode]:
    """Each client's file of operations, by file name."""
    return {
        path.name: parse(path.read_text())
        for path in sorted(contract_dir().glob("*.graphql"))
        if path.name != "types.graphql"
    }


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def fragments_used(
    node: Node, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    """The fragments `node` spreads, directly or through other fragments."""
    used: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        collector = _SpreadCollector()
        visit(pending.pop(), collector)
        for name in collector.names - used.keys():
            used[name] = fragments[name]
            pending.append(fragments[name])
    return list(used.values())


@cache
def operations() -> dict[str, DocumentNode]:
    """Each named operation as a document of its own, with the fragments it uses from its file."""
    found: dict[str, DocumentNode] = {}
    for file_name, document in client_documents().items():
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                assert definition.name is not None, f"anonymous operation in {file_name}"
                used = fragments_used(definition, fragments)
                found[definition.name.value] = DocumentNode(definitions=(definition, *used))
    return found


def operation(name: str) -> str:
    """The named operation with every fragment it spreads, as a client sends it."""
    return print_ast(operations()[name])
