"""Rewrites the README's settings table from the settings tree (run after adding a setting).

.venv/bin/python scripts/settings_table.py
"""

from __future__ import annotations

import re
from pathlib import Path

from ledgerbot.core.settings import SECTIONS, variable_name

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- settings-table -->", "<!-- /settings-table -->"


def table() -> str:
    rows = ["| variable | section | default | meaning |", "| --- | --- | --- | --- |"]
    for section_name, section in SECTIONS.items():
        for name, field in section.model_fields.items():
            default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
            if "SecretStr" in str(field.annotation):
                shown = "secret, no default"
            elif default is None or default == "":
                shown = ""
            elif default == []:
                shown = "empty"
            else:
                shown = f"`{default}`"
            meaning = (field.description or "").replace("|", "/")
            rows.append(f"| `{variable_name(section, name)}` | {section_name} | {shown} | {meaning} |")
    return "\n".join(rows)


def main() -> None:
    text = README.read_text()
    block = f"{START}\n{table()}\n{END}"
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.DOTALL)
    else:
        start = text.index("| variable | section | default | meaning |")
        end = text.index("\n\n", start)
        text = text[:start] + block + text[end:]
    README.write_text(text)


if __name__ == "__main__":
    main()
