"""The README's commands stay true: every `rag ...` line parses, every `make` target exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rag.edges.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)


def _commands(prefix: str) -> list[str]:
    lines = []
    for block in BLOCKS:
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = re.sub(r"^\s*(?:[A-Z_]+=\S+\s+)*", "", line)  # leading VAR=value assignments
            line = line.split("#", 1)[0].split("|", 1)[0].strip()
            if line.startswith(prefix):
                lines.append(line)
    return lines


RAG_COMMANDS = _commands("rag ")
MAKE_COMMANDS = _commands("make ")


def test_the_readme_shows_commands() -> None:
    assert len(RAG_COMMANDS) >= 8 and {"make serve", "make test"} <= set(MAKE_COMMANDS)


@pytest.mark.parametrize("command", RAG_COMMANDS)
def test_rag_commands_in_the_readme_parse(command: str) -> None:
    build_parser().parse_args(shlex.split(command)[1:])  # argparse exits on anything unknown


@pytest.mark.parametrize("command", MAKE_COMMANDS)
def test_make_targets_in_the_readme_exist(command: str) -> None:
    target = command.split()[1]
    assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), flags=re.MULTILINE), target
