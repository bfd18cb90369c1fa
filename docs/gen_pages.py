"""Pages and files generated at build time (mkdocs-gen-files), so that nothing on the site drifts from the code:

- ``reference/cli.md``: the command-line reference, written from the argparse parsers (``ellm_core.cli_reference``);
- ``results/**.png``: the committed figures, copied byte for byte from ``results/``;
- ``notebooks/*.ipynb``: the executed notebooks, rendered by mkdocs-jupyter.
"""

from pathlib import Path

import mkdocs_gen_files

from ellm_core.cli import build_parser as ellm_parser
from ellm_core.cli_reference import cli_markdown
from recrl.cli import build_parser as recrl_parser

ROOT = Path(__file__).resolve().parent.parent

with mkdocs_gen_files.open("reference/cli.md", "w") as page:
    page.write(cli_markdown([("ellm", ellm_parser), ("recrl", recrl_parser)]))
mkdocs_gen_files.set_edit_path("reference/cli.md", "../ellm_core/cli_reference.py")

for figure in sorted((ROOT / "results").rglob("*.png")):
    relative = figure.relative_to(ROOT)
    if "runs" in relative.parts:  # per-run curves: the comparisons' figures are the ones the pages show
        continue
    with mkdocs_gen_files.open(str(relative), "wb") as copy:
        copy.write(figure.read_bytes())

for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
    with mkdocs_gen_files.open(f"notebooks/{notebook.name}", "wb") as copy:
        copy.write(notebook.read_bytes())
