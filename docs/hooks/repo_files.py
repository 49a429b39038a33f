"""MkDocs hook: repository files outside ``docs/`` that the site shows, and links to them.

- The benchmark write-ups ``benchmarks/*.md`` become the pages ``benchmarks/NAME.md`` of the site.
- The figures ``notebooks/figures/*.png`` become ``figures/NAME.png``.

Links are written as they work when reading the Markdown in a checkout (``docs/results.md`` links
``../benchmarks/speed.md``, a write-up links ``../docs/results.md`` or ``../notebooks/figures/x.png``), and are
repointed here at the same files in the site.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
#: repository folder -> (file pattern, folder in the site)
SOURCES = {"benchmarks": ("*.md", "benchmarks"), "notebooks/figures": ("*.png", "figures")}
_LINK = re.compile(r"(\]\()([^)\s#:]+)(#[^)\s]*)?(\))")  # ](path#anchor) — no scheme, so no http: links


def on_config(config: Any, **kwargs: Any) -> Any:
    """Rebuild on a change to one of these files under ``mkdocs serve``."""
    config.watch.extend(str(ROOT / folder) for folder in SOURCES)
    return config


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    """Add the write-ups and figures as generated files of the site."""
    for folder, (pattern, site_folder) in SOURCES.items():
        for path in sorted((ROOT / folder).glob(pattern)):
            files.append(File.generated(config, f"{site_folder}/{path.name}", abs_src_path=str(path)))
    return files


def _site_path(repo_path: str) -> str | None:
    """Where the repository file ``repo_path`` is in the site (None: not part of the site)."""
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/"):]
    for folder, (_, site_folder) in SOURCES.items():
        if posixpath.dirname(repo_path) == folder:
            return f"{site_folder}/{posixpath.basename(repo_path)}"
    return None


def _repo_path(src_uri: str) -> str:
    """The repository path of the page ``src_uri`` of the site."""
    for folder, (_, site_folder) in SOURCES.items():
        if posixpath.dirname(src_uri) == site_folder:
            return f"{folder}/{posixpath.basename(src_uri)}"
    return f"docs/{src_uri}"


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Repoint relative links written for the checkout at the same files in the site."""
    source_dir = posixpath.dirname(_repo_path(page.file.src_uri))
    page_dir = posixpath.dirname(page.file.src_uri) or "."

    def repoint(match: re.Match[str]) -> str:
        target = _site_path(posixpath.normpath(posixpath.join(source_dir, match.group(2))))
        if target is None:
            return match.group(0)  # left for mkdocs to check (and fail on, under --strict)
        relative = posixpath.relpath(target, page_dir)
        return f"{match.group(1)}{relative}{match.group(3) or ''}{match.group(4)}"

    return _LINK.sub(repoint, markdown)
