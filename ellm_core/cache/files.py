"""The LM's answers as portable files (export, import), and ``ellm cache export|import|check`` over them.

A sweep's SQLite cache lives in scratch space (``runs/``). Its ``llm`` namespace (the goals the LM gave each
prompt, keyed by model identity and prompt) is small, costly to recompute (half a second of CPU per prompt) and
valid for any later run with the same model: exporting it next to the results lets a later run, on this
machine or another, start with those answers (``ellm sweep`` imports it as a setup step). One line per entry::

    {"namespace": "llm", "key": "<sha256 of identity, kind and prompt>", "value": <the cached JSON answer>}

The file is gzip-compressed when its name ends in ``.gz``. Import never replaces an entry the cache already has;
export never drops an entry of the file it replaces (answers exported on another machine stay).
Import also reads other files that stand for cache entries, once their module registers a reader
(:func:`register_entry_file`): the label files of ranked goals (:mod:`ellm_core.goals.labels`, written by ``ellm
crafter prewarm --labels-out``) do, so each of their situations becomes the cache entry that a run with the same LM
reads. (The store knows no file format of the method's; the method tells it.)
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import logging
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

from ellm_core.cache import SQLiteCache, pack_json, unpack_json

logger = logging.getLogger(__name__)

#: Other files that stand for cache entries: ``(recognises(path), entries(path, identity))``, the entries being
#: ``(namespace, key, JSON value)``; see :func:`register_entry_file`.
ENTRY_FILES: list[tuple[Callable[[Path], bool], Callable[[Path, str | None], Iterable[tuple[str, str, object]]]]] = []


def register_entry_file(recognises: Callable[[Path], bool],
                        entries: Callable[[Path, str | None], Iterable[tuple[str, str, object]]]) -> None:
    """Let ``import``/``check`` read another kind of file as cache entries (a module registers its format once)."""
    if (recognises, entries) not in ENTRY_FILES:
        ENTRY_FILES.append((recognises, entries))


def _open(path: Path, mode: str):
    """A text handle on ``path``, through gzip when it ends in ``.gz``; written with no time stamp in the gzip header,
    so the same entries give the same bytes (a re-export leaves a committed file unchanged)."""
    if path.suffix != ".gz":
        return open(path, mode, encoding="utf-8")
    return io.TextIOWrapper(gzip.GzipFile(path, mode + "b", mtime=0), encoding="utf-8")


def export_cache(cache: SQLiteCache, path: str | Path, namespace: str = "llm") -> int:
    """Write ``namespace`` of ``cache`` to ``path`` (atomically: a temporary file renamed); returns the entry count.

    Nothing is lost: entries of an earlier export at ``path`` that the cache lacks (answers from another machine's
    cache) are kept, and with no entries at all no file is written."""
    path = Path(path)
    earlier: dict[str, bytes] = {}
    if path.is_file():
        try:
            earlier = {key: value for (ns, key), value in read_entries(path).items() if ns == namespace}
        except ValueError as error:
            raise ValueError(f"{path} cannot be read, so writing over it could lose its entries: move it aside and "
                             f"export again ({error})") from None
    current = {key: value for key, value in cache.items(namespace)}
    kept = len(earlier.keys() - current.keys())
    entries = {key: unpack_json(value) for key, value in {**earlier, **current}.items()}
    if not entries:
        logger.info("no %s entries in %s: nothing written to %s", namespace, cache.path, path)
        return 0
    if kept:
        logger.info("%d entries of the earlier %s are not in %s: kept", kept, path, cache.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp" + path.suffix)
    with _open(temporary, "w") as handle:
        for key in sorted(entries):
            handle.write(json.dumps({"namespace": namespace, "key": key, "value": entries[key]},
                                    ensure_ascii=False) + "\n")
    temporary.replace(path)
    return len(entries)


def _export_entries(path: Path):
    """(line number, namespace, key, packed value) of each entry of an exported file; a malformed line is an error
    naming the file and line."""
    with _open(path, "r") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                yield number, str(row["namespace"]), str(row["key"]), pack_json(row["value"])
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a cache entry ({error})") from None


def read_entries(path: str | Path, identity: str | None = None) -> dict[tuple[str, str], bytes]:
    """Every entry of an export or a label file, read to its end before anything is imported: a file cut short (a
    truncated ``.gz``) or garbled is one error naming the file and the last line read whole. ``identity``: a label
    file's entries keyed for this LM (see :func:`~ellm_core.goals.labels.label_entries`), for a registered kind of
    file (:func:`register_entry_file`)."""
    path = Path(path)
    entries: dict[tuple[str, str], bytes] = {}
    number = 0
    reader = next((entries for recognises, entries in ENTRY_FILES if recognises(path)), None)
    rows = ((n, *entry) for n, entry in enumerate(reader(path, identity), 1)) if reader else _export_entries(path)
    try:
        for row in rows:
            number, namespace, key, value = row  # ``number``: the last line read whole, for the error below
            entries[(namespace, key)] = value if isinstance(value, bytes) else pack_json(value)
    except (EOFError, OSError, UnicodeDecodeError, zlib.error) as error:
        raise ValueError(f"{path}: unreadable after line {number} ({error}): the file is cut short or damaged; "
                         "nothing was imported (export it again, or restore it with git checkout)") from None
    except ValueError as error:  # a malformed line (named by the reader)
        raise ValueError(f"{error}; nothing was imported") from None
    return entries


def import_cache(cache: SQLiteCache, path: str | Path, batch: int = 5_000,
                 identity: str | None = None) -> tuple[int, int]:
    """Add the entries of an exported file (or a label file, keyed for ``identity`` when given) to ``cache``, keeping
    those it has; returns (added, already there). The file is read whole first, so a damaged one adds nothing."""
    entries = read_entries(path, identity)
    added = present = 0
    for namespace in sorted({ns for ns, _ in entries}):
        items = [(key, value) for (ns, key), value in entries.items() if ns == namespace]
        for start in range(0, len(items), batch):
            chunk = dict(items[start:start + batch])
            known = cache.get_many(namespace, chunk)
            cache.put_many(namespace, {key: value for key, value in chunk.items() if key not in known})
            added, present = added + len(chunk) - len(known), present + len(known)
    return added, present


def add_cache_command(commands) -> None:
    """Add ``ellm cache export|import`` to the ``ellm`` subcommands."""
    cache = commands.add_parser("cache", help="export or import the LM's cached answers (JSON Lines), or check a "
                                "cache",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write a cache's LM answers to a .jsonl(.gz) file")
    export.add_argument("cache", help="the SQLite cache file")
    export.add_argument("out", help="the .jsonl or .jsonl.gz file to write")
    export.add_argument("--namespace", default="llm", help="which entries (default: llm, the LM's answers)")
    check = actions.add_parser("check", help="run SQLite's integrity check on a cache and count its entries")
    check.add_argument("cache", help="the SQLite cache file")
    load = actions.add_parser("import", help="add an exported file's entries, or a label file's, to a cache "
                                             "(created if missing)")
    load.add_argument("file", help="the .jsonl or .jsonl.gz file (an export, or ranked goals' labels)")
    load.add_argument("cache", help="the SQLite cache file")
    for action in (export, load, check):
        action.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    cache.set_defaults(handler=cmd_cache)


def cmd_cache(args) -> int:
    """Run ``ellm cache export`` or ``ellm cache import``."""
    if args.action == "check":
        if not Path(args.cache).is_file():
            raise SystemExit(f"ellm cache check: no cache at {args.cache}")
        verdict, counts = SQLiteCache(args.cache).check()
        entries = ", ".join(f"{count} {namespace}" for namespace, count in sorted(counts.items())) or "no entries"
        print(f"{args.cache}: integrity {verdict}; {entries}")
        return 0 if verdict == "ok" else 1
    if args.action == "export":
        if not Path(args.cache).is_file():
            raise SystemExit(f"ellm cache export: no cache at {args.cache}")
        count = export_cache(SQLiteCache(args.cache), args.out, args.namespace)
        logger.info("exported %d %s entries of %s to %s", count, args.namespace, args.cache, args.out)
        return 0
    if not Path(args.file).is_file():
        raise SystemExit(f"ellm cache import: no file at {args.file}")
    added, present = import_cache(SQLiteCache(args.cache), args.file)  # a damaged file: one line (run_handler)
    logger.info("imported %s into %s: %d entries added, %d already there", args.file, args.cache, added, present)
    return 0
