"""The documentation site: it builds with --strict (no broken link, page or reference), its command-line page has
every option of every command (written from the parsers), and its figures are the committed ones, byte for byte."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
                                reason="the docs extra is not installed: pip install '.[docs]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
    mkdocs = str(Path(sys.executable).parent / "mkdocs")
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(out)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_the_cli_page_has_every_option_of_every_command(site):
    from ellm_core.cli import build_parser as ellm_parser
    from ellm_core.cli_reference import options, walk
    from recrl.cli import build_parser as recrl_parser

    page = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    sections = re.split(r"<h[234] id=", page)
    commands = 0
    for program, build in (("ellm", ellm_parser), ("recrl", recrl_parser)):
        for command, parser in walk(build(), program):
            commands += 1
            section = next((s for s in sections if f"<code>{command}</code>" in s.split("</h", 1)[0]), None)
            assert section is not None, f"no section for {command}"
            for flags, _, _ in options(parser):
                for flag in re.findall(r"`([^`]+)`", flags):
                    assert f"<code>{flag}</code>" in section, (command, flag)
    assert commands >= 20  # ellm, its commands and subcommands, recrl's


def test_the_pages_show_the_committed_figures_byte_for_byte(site):
    shown = 0
    for page in (ROOT / "docs").glob("*.md"):
        for figure in re.findall(r"\]\((results/[^)]+\.png)\)", page.read_text(encoding="utf-8")):
            built = site / figure
            assert built.is_file(), (page.name, figure)
            assert built.read_bytes() == (ROOT / figure).read_bytes(), figure
            html = (site / ("" if page.stem == "index" else page.stem) / "index.html").read_text(encoding="utf-8")
            assert figure.split("/")[-1] in html
            shown += 1
    assert shown >= 8


def test_the_results_page_includes_the_committed_tables(site):
    html = (site / "results" / "index.html").read_text(encoding="utf-8")
    for method_row in ("<td>novelty</td>", "<td>ellm</td>", "<td>oracle</td>"):
        assert method_row in html
    assert "--8&lt;--" not in html and "--8<--" not in html  # every snippet resolved


def test_the_readme_is_short_and_keeps_both_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "make demo" in readme and "make test" in readme
