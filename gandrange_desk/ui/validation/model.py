"""The queue as a tree model: family → activity → request lines, with counts per group.

The unit is a column of the lines, not a level of its own: a level per unit cost a row per unit
and left about eight requests on a 1366×768 screen."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from gandrange_desk import formats
from gandrange_desk.models import Billing, RequestKind, RequestSource
from gandrange_desk.services.queue import FamilyGroup, QueueItem

COLUMNS = ("Famille / demande", "Enfant", "Unité", "Date", "Demandé le", "Délai", "Places après",
           "Facturation", "Source")
FAMILY, ACTIVITY, LINE = 0, 1, 3
CHILD, UNIT, DAY, SUBMITTED, LATE, PLACES, BILLING, SOURCE = range(1, 9)
LATE_COLOUR = QColor("#b00020")
PAST_COLOUR = QColor("#6d4c00")
GROUP_BACKGROUND = QColor("#eef2f7")


@dataclass
class Node:
    level: int
    label: str
    parent: "Node | None" = None
    children: list["Node"] = field(default_factory=list)
    item: QueueItem | None = None
    row: int = 0

    def leaves(self) -> list[QueueItem]:
        if self.item is not None:
            return [self.item]
        return [leaf for child in self.children for leaf in child.leaves()]


class QueueTreeModel(QAbstractItemModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.root = Node(-1, "")
        self.overrides: dict[int, tuple[str, str]] = {}  # request id -> (billing, reason)
        self._bold = QFont()
        self._bold.setBold(True)

    # --- filling
    def set_groups(self, groups: list[FamilyGroup]) -> None:
        self.beginResetModel()
        root = Node(-1, "")
        for fam in groups:
            label = f"{fam.name} ({fam.ref})" if fam.ref else fam.name
            fnode = Node(FAMILY, label, root, row=len(root.children))
            root.children.append(fnode)
            for act in fam.activities:
                anode = Node(ACTIVITY, act.name, fnode, row=len(fnode.children))
                fnode.children.append(anode)
                for unit in act.units:
                    for item in unit.items:
                        anode.children.append(Node(LINE, RequestKind.label_of(item.kind), anode,
                                                   item=item, row=len(anode.children)))
        self.root = root
        shown = {i.id for i in root.leaves()}
        self.overrides = {k: v for k, v in self.overrides.items() if k in shown}
        self.endResetModel()

    def set_override(self, request_id: int, billing: str | None, reason: str = "") -> None:
        if billing is None:
            self.overrides.pop(request_id, None)
        else:
            self.overrides[request_id] = (billing, reason)
        index = self.index_of(request_id)
        if index.isValid():
            self.dataChanged.emit(index.siblingAtColumn(0), index.siblingAtColumn(len(COLUMNS) - 1))

    # --- lookups
    def node(self, index: QModelIndex) -> Node:
        return index.internalPointer() if index.isValid() else self.root

    def families(self) -> list[Node]:
        return self.root.children

    def all_items(self) -> list[QueueItem]:
        return self.root.leaves()

    def index_of(self, request_id: int) -> QModelIndex:
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            if node.item is not None and node.item.id == request_id:
                return self.createIndex(node.row, 0, node)
            stack.extend(node.children)
        return QModelIndex()

    def index_for(self, node: Node, column: int = 0) -> QModelIndex:
        if node is self.root:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    # --- Qt model API
    def index(self, row, column, parent=QModelIndex()):
        node = self.node(parent)
        if 0 <= row < len(node.children) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index):
        if not index.isValid():
            return QModelIndex()
        parent = index.internalPointer().parent
        if parent is None or parent is self.root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent=QModelIndex()):
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent=QModelIndex()):
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        col = index.column()
        if node.item is None:
            return self._group_data(node, col, role)
        item = node.item
        if role == Qt.DisplayRole:
            return self._line_text(item, col)
        if role == Qt.ForegroundRole:
            if col == LATE and item.late:
                return QBrush(LATE_COLOUR)
            if col == DAY and item.past:
                return QBrush(PAST_COLOUR)
            if col == PLACES and item.places_left is not None and item.places_left < 0:
                return QBrush(LATE_COLOUR)
        if role == Qt.TextAlignmentRole and col == PLACES:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ToolTipRole:
            if col == BILLING and item.id in self.overrides:
                return self._line_text(item, col)
            return self._tooltip(item)
        if role == Qt.UserRole:
            return item.id
        return None

    def _group_data(self, node: Node, col: int, role):
        if role == Qt.DisplayRole:
            if col == 0:
                n = len(node.leaves())
                return f"{node.label} — {formats.count(n, 'demande', 'demandes')}"
            if col == LATE and node.level == FAMILY:
                late = sum(1 for i in node.leaves() if i.late)
                return formats.count(late, "hors délai", "hors délai") if late else ""
            return ""
        if role == Qt.FontRole and node.level == FAMILY:
            return self._bold
        if role == Qt.BackgroundRole and node.level == FAMILY:
            return QBrush(GROUP_BACKGROUND)
        return None

    def _line_text(self, item: QueueItem, col: int) -> str:
        if col == 0:
            if item.kind == "document" and item.payload.get("kind"):
                return f"Document : {item.payload['kind']}"
            return RequestKind.label_of(item.kind)
        if col == CHILD:
            if item.kind == "registration":
                children = item.payload.get("family", {}).get("children", [])
                return ", ".join(f"{c.get('first_name', '')}" for c in children)
            return item.child_name
        if col == UNIT:
            return item.unit_name if item.kind in ("booking", "cancellation") else ""
        if col == DAY:
            if item.day is None:
                if item.kind == "family_change":
                    n = len(item.payload.get("changes", {}))
                    return formats.count(n, "champ modifié", "champs modifiés")
                return ""
            text = f"{formats.WEEKDAYS_SHORT_FR[item.day.weekday()]} {formats.ddmmyyyy(item.day)}"
            text += " (passé)" if item.past else ""
            return text + " (mois facturé)" if item.regularisation else text
        if col == SUBMITTED:
            return formats.instant(item.submitted_at)
        if col == LATE:
            return "Hors délai" if item.late else ""
        if col == PLACES:
            if item.places_left is None:
                return ""
            return "complet" if item.places_left < 0 else str(item.places_left)
        if col == BILLING:
            if not item.proposed_billing:
                return ""
            proposed = Billing.phrase_of(item.proposed_billing)
            override = self.overrides.get(item.id)
            if override and override[0] != item.proposed_billing:
                return f"{Billing(override[0]).phrase} (au lieu {formats.de(proposed)}) — {override[1]}"
            return proposed
        if col == SOURCE:
            return RequestSource.label_of(item.source)
        return ""

    def _tooltip(self, item: QueueItem) -> str:
        lines = [f"Demande n° {item.id}" + (f" — réf. {item.ref}" if item.ref else "")]
        if item.late:
            lines.append("Demandée après la date limite (hors délai).")
        if item.past:
            lines.append("Le jour est déjà passé : décision de rattrapage.")
        if item.regularisation:
            lines.append("Mois déjà facturé : régularisation sur la prochaine facture.")
        return "\n".join(lines)
