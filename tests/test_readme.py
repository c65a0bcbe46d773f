"""The README and docs/ tell the truth: commands, variables and keywords match the code; the README
stays short (about 8 kB) and links every page of docs/."""
from __future__ import annotations

import re

from service.config import PROJECT_ROOT, SETTINGS
from service.content import load_catalogue

README = (PROJECT_ROOT / "README.md").read_text()
DOCS = sorted((PROJECT_ROOT / "docs").rglob("*.md"))
EVERYTHING = README + "".join(page.read_text() for page in DOCS)
CONFIGURATION = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
MAKEFILE = (PROJECT_ROOT / "Makefile").read_text()
PROCFILE = (PROJECT_ROOT / "Procfile").read_text()
ENVIRONMENT_TABLE = CONFIGURATION.split("## Environment", 1)[1].split("\n## ", 1)[0]


def documented_variables() -> dict[str, str]:
    """Each variable docs/configuration.md's Environment table names in its first column -> its row."""
    found = {}
    for row in ENVIRONMENT_TABLE.splitlines():
        if row.startswith("| `"):
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]):
                found[name] = row
    return found


def test_every_environment_variable_read_is_documented():
    read = {setting.name for setting in SETTINGS}
    assert read, "config.py reads no variables?"
    for name in read | {"PORT", "WEB_CONCURRENCY"}:
        assert f"`{name}`" in CONFIGURATION, f"{name} is read but not in docs/configuration.md's environment table"


def test_the_environment_table_documents_every_setting_and_nothing_else():
    documented = documented_variables()
    settings = {setting.name for setting in SETTINGS}
    assert settings - set(documented) == set(), "read by the line, missing from the docs' Environment table"
    assert set(documented) - settings == set(), "in the docs' Environment table, but read nowhere (SETTINGS)"


def test_the_environment_table_gives_each_default():
    documented = documented_variables()
    for setting in SETTINGS:
        if isinstance(setting.default, str) and setting.default:
            assert re.search(rf"(?<![\w.]){re.escape(setting.default)}(?![\w.])", documented[setting.name]), (
                f"{setting.name}: docs/configuration.md does not give its default {setting.default!r}")


def test_only_the_config_module_reads_the_environment():
    for path in sorted((PROJECT_ROOT / "service").rglob("*.py")):
        if path == PROJECT_ROOT / "service" / "config.py":
            continue
        text = path.read_text()
        assert "os.environ" not in text and "getenv" not in text, f"{path} reads the environment: use config.read"


def test_every_make_target_the_readme_names_exists():
    named = set(re.findall(r"`make ([a-z-]+)`|^make ([a-z-]+)", EVERYTHING, re.MULTILINE))
    named = {a or b for a, b in named}
    assert {"run", "test"} <= named
    targets = set(re.findall(r"^([a-z-]+):", MAKEFILE, re.MULTILINE))
    assert named <= targets, named - targets


def test_the_opt_out_and_opt_in_words_are_the_ones_the_line_honours():
    cat = load_catalogue()
    for word in cat.sms_commands["stop"] + cat.sms_commands["start"]:
        assert f"`{word.upper()}`" in README, word


def test_the_menu_tree_in_the_readme_matches_the_menus():
    cat = load_catalogue()
    tree = README.split("## Menu tree", 1)[1].split("##", 1)[0]
    for key, target in cat.menus["main"].options:
        assert re.search(rf"^\s+{key} ", tree, re.MULTILINE), (key, target)
    for menu in cat.menus.values():
        assert len(menu.options) <= 5


def test_the_procfile_commands_are_the_documented_ones():
    for process in ("web", "release", "worker"):
        assert re.search(rf"^{process}:", PROCFILE, re.MULTILINE), process
        assert f"`{process}`" in README, process
    assert "flask --app service release" in PROCFILE and "flask --app service release" in README
    assert "flask --app service sms send-due" in PROCFILE and "flask --app service sms send-due" in README


def test_the_readme_is_short_and_links_every_page_of_the_docs():
    assert len(README.encode()) <= 8 * 1024, "README over 8 kB: move the detail into docs/"
    linked = set(re.findall(r"\]\(([^)#]+)\)", README))
    for target in linked:
        assert (PROJECT_ROOT / target).exists(), f"the README links {target}, which does not exist"
    pages = {str(page.relative_to(PROJECT_ROOT)) for page in DOCS if page.parent.name != "safety"}
    assert pages - linked == set(), "a page of docs/ the README does not link"
