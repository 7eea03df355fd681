"""The Tableau de bord tab: occupancy against capacity, money per month, the queue's waiting time
and the e-mails in trouble, drawn with QtCharts; each chart saves itself as a PNG.

The figures come from `services.reports.dashboard` and are read again whenever the tab is
shown, the month or the activity changes, or F5 is pressed. "Rapport CAF…" opens the CAF
report (the supervisor's).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCharts import QChartView
from PySide6.QtCore import QDate, QLocale
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox, QDateEdit, QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel, QMessageBox, QPushButton,
    QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.models import Role
from gandrange_desk.services.reports import dashboard
from gandrange_desk.ui.dashboard import charts


def school_year_start(day: date) -> date:
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


class ChartBox(QFrame):
    """One chart with its one-line reading and its "Exporter en PNG…" button."""

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.setFrameShape(QFrame.StyledPanel)
        self.view = QChartView()
        self.view.setRenderHint(QPainter.Antialiasing)
        self.view.setMinimumSize(300, 200)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.png_button = QPushButton("Exporter en PNG…")
        self.png_button.clicked.connect(self.save_png)
        bottom = QHBoxLayout()
        bottom.addWidget(self.caption, 1)
        bottom.addWidget(self.png_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)

    def set_chart(self, chart, caption: str) -> None:
        old = self.view.chart()
        self.view.setChart(chart)
        if old is not None:
            old.deleteLater()
        self.caption.setText(caption)

    def ask_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Exporter le graphique", f"{self.name}.png", "Image PNG (*.png)")
        return path

    def save_png(self) -> str | None:
        path = self.ask_path()
        if not path:
            return None
        if not path.lower().endswith(".png"):
            path += ".png"
        if not self.view.grab().save(path, "PNG"):
            QMessageBox.warning(self, "Exporter le graphique", f"Impossible d'écrire {path}.")
            return None
        return path


class DashboardTab(QWidget):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self._shown = False
        today = desk.today()
        self.month_edit = QDateEdit(calendarPopup=True)
        self.month_edit.setLocale(QLocale(QLocale.French, QLocale.France))
        self.month_edit.setDisplayFormat("MMMM yyyy")
        self.month_edit.setDate(QDate(today.year, today.month, 1))
        self.activity_combo = QComboBox()
        refresh = QPushButton("&Actualiser")
        self.caf_button = QPushButton("Rapport &CAF…")
        self.caf_button.setVisible(desk.actor.at_least(Role.RESPONSABLE))
        bar = QHBoxLayout()
        month_label = QLabel("&Mois")
        month_label.setBuddy(self.month_edit)
        activity_label = QLabel("A&ctivité")
        activity_label.setBuddy(self.activity_combo)
        for w in (month_label, self.month_edit, activity_label, self.activity_combo):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(refresh)
        bar.addWidget(self.caf_button)
        self.occupancy = ChartBox("occupation")
        self.money = ChartBox("facturation")
        self.waiting = ChartBox("demandes-en-attente")
        self.mail = ChartBox("courriels")
        grid = QGridLayout()
        for i, box in enumerate((self.occupancy, self.money, self.waiting, self.mail)):
            grid.addWidget(box, i // 2, i % 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(grid, 1)
        self._fill_activities()
        self.month_edit.dateChanged.connect(lambda _d: self.refresh())
        self.activity_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        refresh.clicked.connect(self.refresh)
        self.caf_button.clicked.connect(self.open_caf)
        self.refresh()

    def _fill_activities(self) -> None:
        self.activity_combo.blockSignals(True)
        self.activity_combo.clear()
        for aid, name in dashboard.activities(self.desk):
            self.activity_combo.addItem(name, aid)
        self.activity_combo.blockSignals(False)

    def month(self) -> date:
        return self.month_edit.date().toPython().replace(day=1)

    def refresh(self) -> None:
        month = self.month()
        try:
            occupancy = dashboard.occupancy(self.desk, month, self.activity_combo.currentData())
            first = school_year_start(month)
            money = dashboard.money(self.desk, first, max(month, first))
            waiting = dashboard.waiting(self.desk)
            mail = dashboard.mail(self.desk)
        except DeskError as exc:
            QMessageBox.warning(self, "Tableau de bord", str(exc))
            return
        self.occupancy.set_chart(charts.occupancy_chart(occupancy), occupancy.busiest())
        billed = sum(m.billed_cents for m in money)
        overdue = sum(m.overdue_cents for m in money)
        self.money.set_chart(charts.money_chart(money),
                             f"Depuis {formats.month_year(first)} : {formats.euros(billed)} facturés, "
                             f"{formats.euros(overdue)} impayés échus.")
        self.waiting.set_chart(charts.waiting_chart(waiting), waiting.text())
        self.mail.set_chart(charts.mail_chart(mail), mail.text())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._shown:  # the figures move while the tab is hidden: read them again
            self.refresh()
        self._shown = True

    def apply_changes(self, changes, origin=None) -> None:
        if self.isVisible() and changes:
            self.refresh()

    def open_caf(self) -> None:
        from gandrange_desk.ui.dashboard.caf_dialog import CafDialog

        CafDialog(self.desk, self).exec()
