"""Our stylesheets parse: a block left open (a lost brace in a merge) silently swallows every rule after it."""

import re
from pathlib import Path

import pytest

CSS = sorted((Path(__file__).resolve().parent.parent / "static" / "css").glob("*.css"))


@pytest.mark.parametrize("path", CSS, ids=lambda p: p.name)
def test_every_block_is_closed_and_no_rule_hides_inside_another(path):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), path.read_text(), flags=re.S)
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        assert depth >= 0, f"{path.name}:{number}: a closing brace too many"
        for char in line:
            depth += {"{": 1, "}": -1}.get(char, 0)
    assert depth == 0, f"{path.name}: {depth} block(s) never closed"
