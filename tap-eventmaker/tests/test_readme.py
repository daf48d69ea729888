"""The README's settings table matches the tap's settings (names, secrets, required, scalar defaults)."""

from __future__ import annotations

import pathlib

from tap_eventmaker.tap import TapEventmaker

README = pathlib.Path(__file__).parents[1] / "README.md"


def readme_settings() -> dict[str, dict[str, str]]:
    """Rows of the `## Settings` table: name -> {type, default} as written."""
    section = README.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[0].strip(" `"): {"type": cells[1].strip(), "default": cells[2].strip(" `")} for cells in rows[1:]}


def own_properties() -> dict[str, dict]:
    """The settings the plugin declares, without those the SDK appends to every tap."""
    builtin: dict = {"properties": {}}
    TapEventmaker.append_builtin_config(builtin)
    properties = TapEventmaker.config_jsonschema["properties"]
    return {name: prop for name, prop in properties.items() if name not in builtin["properties"]}


def as_written(default: object) -> str:
    """A schema default as the README writes it: ``false``, ``2`` (for 2.0), ``[]``, plain text."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float):
        return f"{default:g}"
    return "[]" if default == [] else str(default)


def test_every_setting_is_documented_with_its_secrecy_and_default():
    documented = readme_settings()
    schema = TapEventmaker.config_jsonschema
    properties = own_properties()
    assert documented.keys() == properties.keys()
    for name, prop in properties.items():
        assert ("secret" in documented[name]["type"]) == bool(prop.get("secret")), name
        assert ("required" in documented[name]["type"]) == (name in schema.get("required", [])), name
        if "default" in prop:
            assert documented[name]["default"] == as_written(prop["default"]), name
