"""The one logging configuration of the ``ellm`` and ``recrl`` commands (and of scripts run as modules)."""

from __future__ import annotations

import logging
import os


def setup_logging(verbose: int = 0) -> None:
    """One logging configuration for all commands (``-v`` for debug)."""
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose == 0:
        for package in ("ellm_core", "recrl"):
            logging.getLogger(package).setLevel(logging.INFO)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:  # transformers' download/loading bars are noise in a CLI
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
