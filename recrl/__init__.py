"""RecRL: the ELLM core applied to recommendation.

Goals are *rationales* (short statements of what a user looks for) from a LoRA-fine-tuned causal LM; the
environment is a product-browsing session whose transition captions are the descriptions of the products
opened; because real ratings exist, the reward is validated against held-out ratings. Builds on
:mod:`ellm_core` (which never imports this package).
"""

__version__ = "0.1.0"

# The validation modules moved into recrl.validation; their old paths import for one release, with a warning.
from ellm_core._moved import MOVED as _MOVED  # noqa: E402

_MOVED.update({f"recrl.{old}": (f"recrl.validation.{new}",) for old, new in (
    ("validate", "validate"), ("validate_cli", "cli"), ("validation_stats", "stats"), ("validation_plots", "plots"),
    ("learned_metric", "learned_metric"), ("metrics", "metrics"), ("anchors", "anchors"), ("strongest", "strongest"),
    ("content", "content"))})

# `import recrl` registers recrl/ProductBrowse-v0 (a string entry point: nothing heavy is imported until
# gymnasium.make); `gymnasium.make("recrl:recrl/ProductBrowse-v0", ...)` does the import itself.
from recrl import browse as _browse  # noqa: F401,E402
