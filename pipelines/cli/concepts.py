"""`kgrec curate merge-concepts` and `kgrec curate split-concept`: curators fix the concept layer.

Both are decisions recorded in the graph store, with the curator and the time, that every later
`kgrec refine` reads back (`pipelines.refine.concepts.existing_concepts`): a merge makes the merged
text lead under the survivor's id, a split is a concept of its own that never merges again.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from pipelines.cli.common import ConfigOption, GraphOption, settings_from, user_errors

ByOption = Annotated[str | None, typer.Option(help="Curator name; default the OS user.")]


def merge_concepts(
    into: Annotated[str, typer.Argument(help="The concept that stays, e.g. 'function:taking photos'.")],
    merged: Annotated[list[str], typer.Argument(help="Concepts of the same kind that become its aliases.")],
    by: ByOption = None,
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """Merge concepts into one: their relations move to it and later runs keep them merged."""
    from kg.factory import make_store

    with user_errors(), make_store(settings_from(config, graph=graph).graph) as store:
        moved = store.merge_concepts(into, merged, by or getpass.getuser())
    typer.echo(f"merged {len(merged)} concept(s) into {into}; {moved} relation(s) moved")


def split_concept(
    concept: Annotated[str, typer.Argument(help="The concept holding the alias.")],
    alias: Annotated[str, typer.Argument(help="One of its aliases, to become a concept of its own.")],
    by: ByOption = None,
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """Split an alias off a concept: relations phrased that way move to the new concept."""
    from kg.factory import make_store

    with user_errors(), make_store(settings_from(config, graph=graph).graph) as store:
        new_id, moved = store.split_concept(concept, alias, by or getpass.getuser())
    typer.echo(f"split {alias!r} off {concept} as {new_id}; {moved} relation(s) moved")
