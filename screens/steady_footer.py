"""The footer of a screen whose focus moves between fields: rebuilt only when its keys change.

Textual's Footer removes and mounts all its keys again whenever the screen's bindings may have
changed: on every focus change, and on every refresh_bindings. Moving between two fields of a
section's form changes none of the keys shown, yet each rebuild cost two more layouts of the
whole section (about 80 ms each on section V with an app's fields, #18.3).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

# What the footer shows of one binding: its key, its words, whether it is greyed out.
Shown = tuple[tuple[str, str, bool, str], ...]


def shown_keys(screen: Screen) -> Shown:
    """The keys a footer on this screen shows now, as Footer.compose reads them."""
    return tuple(
        (binding.key, binding.description, enabled, tooltip)
        for (_node, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show
    )


class SteadyFooter(Footer):
    """Footer, rebuilt only when the keys it shows differ from the ones it shows now."""

    _shown: Shown | None = None

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            now = shown_keys(screen)
            if now == self._shown:
                return  # the same keys, the same words, the same greyed ones: nothing to redo
            self._shown = now
        super().bindings_changed(screen)
