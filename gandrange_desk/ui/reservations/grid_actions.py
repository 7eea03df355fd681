"""What the grid's actions do to a selection: the service call each one makes (after asking
what it needs), which of them apply to the cells chosen, and the words of their results."""

from __future__ import annotations

from gandrange_desk.services.queue import ONE_BY_ONE_HOLD
from gandrange_desk.services.reservations import cells as cell_ops
from gandrange_desk.services.reservations import reads
from gandrange_desk.services.reservations.grid import AF, BLANK, DA, DR, R

# (name, menu text, shortcut); the view itself handles Suppr for "cancel".
SPECS = (
    ("book", "Réserver (R)", "Ctrl+R"),
    ("ask", "Demande pour la famille (DR)", "Ctrl+D"),
    ("cancel", "Annuler la réservation…", "Del"),
    ("ask_cancel", "Demande d'annulation pour la famille (DA)", "Ctrl+Shift+D"),
    ("accept", "Accepter la demande", "Ctrl+Return"),
    ("refuse", "Refuser la demande…", "Ctrl+Shift+Return"),
    ("withdraw", "Retirer la demande de la famille", ""),
    ("undo", "Annuler la dernière saisie", "Ctrl+Z"),
    ("history", "Historique de la case", "Ctrl+H"),
)

# The cell states each action applies to (an action with none of them in the selection is
# greyed in the menu).
APPLIES_TO = {
    "book": {BLANK}, "ask": {BLANK}, "cancel": {R}, "ask_cancel": {R}, "accept": {DR, DA},
    "refuse": {DR, DA}, "withdraw": {DR, DA},
}

VERBS = {
    "book": ("réservée", "réservées"),
    "ask": ("demandée pour la famille", "demandées pour la famille"),
    "cancel": ("annulée", "annulées"),
    "ask_cancel": ("en demande d'annulation", "en demande d'annulation"),
    "accept": ("acceptée", "acceptées"),
    "refuse": ("refusée", "refusées"),
    "withdraw": ("retirée", "retirées"),
    "undo": ("remise comme avant", "remises comme avant"),
}


def default_action(state: int, for_family: bool) -> str | None:
    """What Espace or a double-click does on a cell in `state` (None: ask, or nothing)."""
    if state == BLANK:
        return "ask" if for_family else "book"
    if state == R:
        return "ask_cancel" if for_family else "cancel"
    if state == AF:
        return None
    return "decide"  # DR or DA: the tab asks accept or refuse (or withdraw, for the family)


def operation(tab, name: str, cells):
    """Ask what the action needs (billing, reason), then return the service call to make,
    `operation(capacity_override)`, or None when there is nothing to do."""
    d, cal = tab.desk, tab.cal
    if name in ("book", "ask"):
        return lambda override: cell_ops.book_cells(d, cells, for_family=name == "ask",
                                                    capacity_override=override, cal=cal)
    # The cells' states sort what a cancellation or a decision applies to (a booking asks the
    # rules alone: 1,000 cells need not be looked up twice).
    states = tab.cell_states(cells)
    if name == "cancel":
        r_cells = [c for c, st in states.items() if st == R]
        if not r_cells:
            tab.say("Seules les cases réservées (R) s'annulent ainsi.", error=True)
            return None
        proposal = tab.run("Annuler", lambda: reads.cancellation_proposal(
            d, cal, tab.activity_combo.currentData(), r_cells))
        if proposal is None:
            return None
        proposed, late = proposal
        choice = tab.prompt_cancel(len(r_cells), proposed, late)
        if choice is None:
            return None
        billing, reason = choice
        return lambda _override: cell_ops.cancel_cells(d, r_cells, billing=billing, reason=reason, cal=cal)
    if name == "ask_cancel":
        return lambda _override: cell_ops.ask_cancel_cells(d, cells, cal=cal)
    if name == "withdraw":
        return lambda _override: cell_ops.withdraw_cells(d, cells)
    if name in ("accept", "refuse"):
        pending = [c for c, st in states.items() if st in (DR, DA)]
        if not pending:
            tab.say("Aucune demande en attente dans la sélection.", error=True)
            return None
        reason = ""
        if name == "refuse":
            reason = tab.prompt_reason("Refuser la demande", "Motif du refus (envoyé à la famille) :")
            if reason is None:
                return None
        # One cell decided at a time: its e-mail waits for the next ones of the family (one
        # e-mail per round); a rectangle is a round of its own and leaves at once.
        hold = ONE_BY_ONE_HOLD if len(pending) == 1 else None
        tab.holding = tab.holding or hold is not None
        return lambda override: cell_ops.decide_cells(d, pending, name == "accept", reason=reason,
                                                      capacity_override=override, hold=hold)
    raise ValueError(name)


__all__ = ["APPLIES_TO", "SPECS", "VERBS", "default_action", "operation"]
