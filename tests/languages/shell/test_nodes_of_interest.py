"""`nodes_of_interest`: the hazard scan's nodes, found by one walk, are exactly what a tree-sitter query finds.

The reference is tree-sitter's own query engine run with the patterns the walk replaced (a query
costs more to compile than the walk costs to run). Compared on every script the adversarial suite
builds, every shell file of this repository, a real-size harness, and random token soup, whose
trees are full of ERROR nodes.
"""

from __future__ import annotations

from pathlib import Path

import repogen  # benchmarks/repogen.py (conftest puts benchmarks/ on the path)
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Query, QueryCursor

from driftcheck.languages.common import ts_parser
from driftcheck.languages.shell.hazards import nodes_of_interest
from tests.languages.shell.test_adversarial import cases

REPO = Path(__file__).resolve().parents[3]
_PATTERNS = """
(command_name) @command
(function_definition) @function
(declaration_command) @declaration
(unset_command) @unset
(binary_expression) @arithmetic
(postfix_expression) @step
(unary_expression) @step
"""


def _spans(found: dict[str, list]) -> dict[str, list[tuple[str, int, int]]]:
    return {name: [(n.type, n.start_byte, n.end_byte) for n in nodes] for name, nodes in found.items()}


def _reference(root) -> dict[str, list[tuple[str, int, int]]]:
    """The query's captures, sorted: a query yields them in its own order, not always the document's."""
    query = Query(ts_parser("bash").language, _PATTERNS)
    return {name: sorted(spans) for name, spans in _spans(QueryCursor(query).captures(root)).items()}


def _agree(data: bytes) -> None:
    root = ts_parser("bash").parse(data).root_node
    walked = _spans(nodes_of_interest(root))
    # A query cursor skips an empty node at byte 0 (its range test wants end > start; error recovery makes
    # such nodes, `|!`); the walk keeps it, as the query does an empty node anywhere else.
    comparable = {name: sorted(s for s in spans if s[1:] != (0, 0)) for name, spans in walked.items()}
    assert {name: spans for name, spans in comparable.items() if spans} == _reference(root)
    for spans in walked.values():  # document order: by start, an enclosing node before what it contains
        assert spans == sorted(spans, key=lambda span: (span[1], -span[2]))


def test_every_adversarial_script() -> None:
    scripts = [case.script.encode() for case in cases()]
    assert len(scripts) > 100
    for script in scripts:
        _agree(script)


def test_every_shell_file_of_the_repository_and_a_real_size_harness() -> None:
    files = [p for p in REPO.rglob("*.sh") if ".git" not in p.parts]
    assert len(files) > 10
    for path in files:
        _agree(path.read_bytes())
    _agree(repogen.sh_source(list(repogen.CANONICAL_KEYS)).encode())


def test_empty_nodes_error_recovery_makes_are_found_at_the_start_too() -> None:
    for data, start in ((b"|!", 0), (b"a; |! echo", 2)):
        found = _spans(nodes_of_interest(ts_parser("bash").parse(data).root_node))
        assert ("command_name", start, start) in found["command"]


def test_a_subtree_is_walked_without_leaving_it() -> None:
    data = b"f() { declare -a A=(1); (( x++ )); }\ng() { unset B; }\n"
    root = ts_parser("bash").parse(data).root_node
    first = root.named_children[0]
    found = _spans(nodes_of_interest(first))
    assert found == {"function": [("function_definition", 0, 36)],
                     "declaration": [("declaration_command", 6, 22)],
                     "step": [("postfix_expression", 27, 30)]}
    assert _spans(nodes_of_interest(root))["unset"] == [("unset_command", 43, 50)]


_TOKENS = [b"declare", b"local", b"unset", b"eval", b"f", b"()", b"{", b"}", b"(", b")", b"((", b"))", b"$((",
           b"[[", b"]]", b"[", b"]", b"$", b"${", b"!", b"x", b"=", b"+=", b"++", b"--", b"-", b"+", b"*", b"==",
           b"'", b'"', b"`", b"\\", b" ", b"\n", b";", b"&&", b"||", b"|", b"&", b"<<", b"EOF", b"#", b"function",
           b"if", b"then", b"fi", b"for", b"in", b"do", b"done", b"case", b"esac", b"A=(", b"1", b"let"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=30).map(b"".join))
def test_random_token_soup(data: bytes) -> None:
    _agree(data)
