"""The core imports no chat platform and no terminal renderer."""

import ast
from pathlib import Path

import bot.core

FORBIDDEN = {
    "discord",
    "slack_bolt",
    "slack_sdk",
    "rich",
    "prompt_toolkit",
    "aiohttp",
    "bot.platforms",
}


def test_core_imports_no_platform_library() -> None:
    core = Path(bot.core.__file__).parent
    offenders = []
    for path in sorted(core.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if any(name == bad or name.startswith(f"{bad}.") for bad in FORBIDDEN):
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert offenders == []
    assert len(list(core.rglob("*.py"))) >= 10, "the scan found the core's modules"
