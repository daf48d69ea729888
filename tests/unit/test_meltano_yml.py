"""meltano.yml describes each plugin as the plugin describes itself (`--about`): settings, kinds, defaults,
secrets and capabilities; and the settings lists are well-formed YAML (no key split off a description)."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
PLUGINS = {"extractors": ("tap-eventmaker",), "loaders": ("target-salesforce-campaign", "target-csv")}
# Settings every Singer SDK plugin gets from its capabilities (singer-sdk 0.54.9); Meltano knows them itself.
SDK_BUILTINS = {"stream_maps", "stream_map_config", "faker_config", "flattening_enabled", "flattening_max_depth",
                "flattening_max_key_length", "flattening_separator", "add_record_metadata", "load_method",
                "batch_size_rows", "validate_records"}
SETTING_KEYS = {"name", "kind", "value", "label", "description", "sensitive", "options", "documentation", "placeholder"}
KINDS = {"string": {"string", "options", "date_iso8601", "password"}, "integer": {"integer"},
         "number": {"decimal", "integer"}, "boolean": {"boolean"}, "array": {"array"}, "object": {"object"}}
# The target-csv settings this project does not use and so leaves undeclared would make a longer list than
# the point; each one of ours must be declared.
UNDECLARED_OK = {"target-csv": {"destination_path", "output_path_prefix", "escape_character", "encoding"}}


def project_plugins():
    data = yaml.safe_load((PROJECT / "meltano.yml").read_text(encoding="utf-8"))
    return {plugin["name"]: (kind, plugin) for kind, plugins in data["plugins"].items() for plugin in plugins}


def about(kind: str, plugin: dict) -> dict:
    executable = PROJECT / ".meltano" / kind / plugin["name"] / "venv" / "bin" / plugin["executable"]
    if not executable.exists():
        pytest.fail(f"{plugin['name']} is not installed: run `make setup`")
    result = subprocess.run([str(executable), "--about", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def types_of(schema: dict) -> set[str]:
    kinds = schema.get("type") or [branch.get("type") for branch in schema.get("anyOf", [])]
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return {kind for kind in kinds if kind and kind != "null"}


@pytest.mark.parametrize("name", [name for names in PLUGINS.values() for name in names])
def test_each_plugin_is_declared_as_its_about_describes_it(name):
    kind, plugin = project_plugins()[name]
    described = about(kind, plugin)
    properties = described["settings"]["properties"]
    assert set(plugin["capabilities"]) == set(described["capabilities"])

    declared = {setting["name"]: setting for setting in plugin["settings"]}
    problems = []
    for setting_name, setting in declared.items():
        if extra := set(setting) - SETTING_KEYS:
            problems.append(f"{setting_name}: unknown keys {sorted(extra)} (YAML split a value?)")
        schema = properties.get(setting_name)
        if schema is None:
            problems.append(f"{setting_name}: not a setting of {name} --about")
            continue
        if setting.get("kind") == "decimal":  # Meltano 4.4.1 cannot pass one set by an environment variable
            problems.append(f"{setting_name}: kind decimal breaks `{name.upper()}_...` variables; use integer")
        json_types = types_of(schema)
        if json_types and not any(setting.get("kind", "string") in KINDS.get(t, set()) for t in json_types):
            problems.append(f"{setting_name}: kind {setting.get('kind')} for JSON type {sorted(json_types)}")
        if (schema.get("secret") or schema.get("writeOnly")) and not setting.get("sensitive"):
            problems.append(f"{setting_name}: secret in --about but not sensitive in meltano.yml")
        if "default" in schema and setting.get("value") != schema["default"]:
            problems.append(f"{setting_name}: value {setting.get('value')!r} but --about default {schema['default']!r}")
        if "default" not in schema and "value" in setting:
            problems.append(f"{setting_name}: value {setting['value']!r} but --about has no default")
    undeclared = set(properties) - set(declared) - SDK_BUILTINS - UNDECLARED_OK.get(name, set())
    problems += [f"{setting_name}: in --about but not declared in meltano.yml" for setting_name in sorted(undeclared)]
    assert problems == []


def test_every_settings_group_names_declared_settings_and_the_target_has_one_per_auth_flow():
    for name, (_, plugin) in project_plugins().items():
        declared = {setting["name"] for setting in plugin.get("settings") or ()}
        for group in plugin.get("settings_group_validation") or ():
            assert set(group) <= declared, (name, group)
    groups = project_plugins()["target-salesforce-campaign"][1]["settings_group_validation"]
    flows = {"access_token": {"access_token", "instance_url"}, "jwt": {"client_id", "jwt_private_key", "username"},
             "refresh_token": {"client_id", "refresh_token"}, "password": {"username", "password"},
             "client_credentials": {"client_id", "client_secret"}}
    from target_salesforce_campaign.auth import auth_flow
    for flow, credentials in flows.items():  # each group is exactly the set the target's auth picks a flow by
        assert auth_flow(dict.fromkeys(credentials, "x")) == flow
    assert sorted(map(sorted, groups)) == sorted(map(sorted, flows.values()))


def test_custom_plugins_carry_hub_style_metadata():
    for name in ("tap-eventmaker", "target-salesforce-campaign", "sync-monitor"):
        plugin = project_plugins()[name][1]
        assert all(plugin.get(key) for key in ("label", "description", "docs", "repo", "keywords")), name


@pytest.mark.parametrize("name", ["tap-eventmaker", "target-salesforce-campaign"])
def test_every_number_setting_can_be_set_from_an_environment_variable(name):
    """Meltano casts a variable's text by the setting's kind; the plugin's config must still be written."""
    kind, plugin = project_plugins()[name]
    properties = about(kind, plugin)["settings"]["properties"]
    numbers = [s["name"] for s in plugin["settings"] if types_of(properties.get(s["name"], {})) & {"number", "integer"}]
    prefix = name.upper().replace("-", "_")
    env = {**os.environ, **{f"{prefix}_{setting.upper()}": "3" for setting in numbers}}
    result = subprocess.run([str(PROJECT / ".venv" / "bin" / "meltano"), "config", "print", name], cwd=PROJECT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]
    printed = json.loads(result.stdout)
    assert numbers and all(printed[setting] == 3 for setting in numbers)
