"""Showing some of a screen's widgets and not others, without hidden widgets that take touches."""

from __future__ import annotations

from collections.abc import Sequence


def show_only(container, wanted: Sequence) -> None:
    """Make ``wanted`` (in order) ``container``'s children; nothing changes if they already are.

    A widget that is merely hidden (opacity 0, disabled) still takes the touches meant for
    what is drawn there; one taken out cannot. Callers keep their own references to the
    widgets they take out (a kv id is a weak proxy).
    """
    if list(reversed(container.children)) == list(wanted):
        return
    container.clear_widgets()
    for widget in wanted:
        container.add_widget(widget)
