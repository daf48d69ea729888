"""The README's settings table matches the target's settings (names, secrets, scalar defaults)."""

import pathlib

from target_salesforce_campaign.target import TargetSalesforceCampaign

README = pathlib.Path(__file__).parents[1] / "README.md"


def readme_settings() -> dict[str, dict]:
    """Rows of the `## Settings` table: name -> {secret, default} as written."""
    section = README.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[0].strip(): {"secret": cells[2].strip() == "yes", "default": cells[3].strip()} for cells in rows[1:]}


def own_properties() -> dict[str, dict]:
    """The settings the plugin declares, without those the SDK appends to every target."""
    builtin: dict = {"properties": {}}
    TargetSalesforceCampaign.append_builtin_config(builtin)
    properties = TargetSalesforceCampaign.config_jsonschema["properties"]
    return {name: prop for name, prop in properties.items() if name not in builtin["properties"]}


def test_every_setting_is_documented_with_its_secrecy_and_default():
    documented = readme_settings()
    properties = own_properties()
    assert documented.keys() == properties.keys()
    for name, schema in properties.items():
        assert documented[name]["secret"] == bool(schema.get("secret")), name
        default = schema.get("default")
        if isinstance(default, (str, int, float)) and not isinstance(default, bool):
            assert documented[name]["default"].strip("`") == str(default), name
        elif isinstance(default, bool):
            assert documented[name]["default"] == str(default).lower(), name
