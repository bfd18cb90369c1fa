"""The product data layer: sources converted to one schema, prepared directories, leak-free splits.

>>> from recrl.data import PrepareConfig, prepare, load_prepared
>>> report = prepare(PrepareConfig(source="sample", out="data/prepared/sample"))   # doctest: +SKIP
>>> data = load_prepared("data/prepared/sample")                                      # doctest: +SKIP
"""

from recrl.data.describe import DescriptionOptions, build_description
from recrl.data.prepare import SOURCES, PrepareConfig, prepare
from recrl.data.prepared import PreparedData, dataset_stats, load_prepared
from recrl.data.rows import DROP_REASONS, BadRowError
from recrl.data.split import check_no_leakage, k_core, temporal_split

__all__ = [
    "DROP_REASONS", "SOURCES", "BadRowError", "DescriptionOptions", "PrepareConfig", "PreparedData",
    "build_description", "check_no_leakage", "dataset_stats", "k_core", "load_prepared", "prepare",
    "temporal_split",
]
