"""MkDocs hook: the command-line reference, generated from the ``textrisk`` argument parser.

A page holding the line ``<!-- cli-reference -->`` gets, in its place, a table of the sub-commands and the
``--help`` text of each (nested sub-commands too), so the reference cannot drift from the parser.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- cli-reference -->"
WIDTH = "80"  # argparse wraps help at $COLUMNS; 80 fits the page's content column


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each sub-command of ``parser``, in definition order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _anchor(command: str) -> str:
    return command.replace(" ", "-")


def _sections(parser: argparse.ArgumentParser, prefix: str, level: int) -> Iterator[str]:
    for name, help_text, sub in _subcommands(parser):
        command = f"{prefix} {name}"
        yield f"{'#' * level} `{command}` {{ #{_anchor(command)} }}\n"
        if help_text:
            yield f"{help_text[0].upper()}{help_text[1:]}.\n"
        if sub.add_help:
            yield f"```text\n{sub.format_help().rstrip()}\n```\n"
        else:  # options parsed by the command itself when it runs
            yield f"Its options are read when it runs: `{command} --help` lists them.\n"
        yield from _sections(sub, command, level + 1)


def render() -> str:
    """Markdown: the sub-command table and one section per (nested) sub-command."""
    from textrisk.cli import build_parser

    previous = {key: os.environ.get(key) for key in ("COLUMNS", "NO_COLOR")}
    os.environ.update(COLUMNS=WIDTH, NO_COLOR="1")
    try:
        parser = build_parser()
        lines = ["| command | what it does |", "|---|---|"]
        lines += [f"| [`textrisk {name}`](#{_anchor('textrisk ' + name)}) | {help_text.replace('|', '&#124;')} |"
                  for name, help_text, _ in _subcommands(parser)]
        return "\n".join(lines) + "\n\n" + "\n".join(_sections(parser, "textrisk", 2))
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the marker line with the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
