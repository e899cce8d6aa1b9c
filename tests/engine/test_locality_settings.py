"""Locality switches in variant.toml (engine/locality_settings.py): read, checked with file and line,
and looked up nearest first along the jurisdiction chain."""
from __future__ import annotations

from pathlib import Path

from engine.calendar import Duration, Unit
from engine.forms import FormLibrary
from engine.locality_settings import SETTINGS, locality_setting, places_with
from engine.registry import ProcessRegistry
from engine.variant_files import read_variant_toml

ROOT = Path(__file__).resolve().parents[2]


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variant.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_switch_is_read_and_checked(tmp_path):
    settings, problems = read_variant_toml(_toml(tmp_path, '''name = "九原区"
daily_digest = true
transfer_limit = "2 工作日"
[letters]
at_warning = "work_reminder"
[[analysis_meetings]]
level = "village"
every = "week"
'''))
    assert problems == []
    assert settings["locality"] == {"daily_digest": True, "transfer_limit": Duration(2, Unit.WORKDAY),
                                    "letters": {"at_warning": "work_reminder"},
                                    "analysis_meetings": ({"level": "village", "every": "week"},)}


def test_a_bad_switch_names_its_line_and_what_is_accepted(tmp_path):
    path = _toml(tmp_path, '''name = "九原区"
daily_digest = "yes"
transfer_limit = "两天"
unheard_of = 1
[letters]
at_warning = "no_such_letter"
[[analysis_meetings]]
level = "grid"
every = "week"
''')
    settings, problems = read_variant_toml(path)
    assert settings is None
    found = {(p.line, p.message.split(":")[0].split(" =")[0]) for p in problems}
    assert (2, "daily_digest") in found
    assert (3, "transfer_limit") in found
    assert any(p.line == 5 and "no_such_letter" in p.message and "work_reminder" in p.message for p in problems)
    assert any(p.line == 7 and "grid" in p.message and "village" in p.message for p in problems)
    assert any(p.line == 4 and "unknown key 'unheard_of'" in p.message and "docs/localities.md" in p.message
               for p in problems)
    assert all(str(path) == p.file for p in problems)


def test_the_nearest_variant_on_the_chain_wins():
    registry = ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))
    variants = registry.variants
    for key in SETTINGS:
        for code, value in places_with(variants, key).items():
            assert locality_setting(variants, [code, code[:4] + "00", ""], key) == value
            assert locality_setting(variants, ["999999999", code, ""], key) == value  # inherited below
    assert locality_setting(variants, ["999999", ""], "daily_digest", False) is False
