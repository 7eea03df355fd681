"""The dashboard's charts (QtCharts), each built from one `services.reports.dashboard` series.

Plain functions: figures in, a `QChart` out, French titles and axis labels; money in euros on
the axis (the tooltips keep the cents). No database, no service call here.
"""

from __future__ import annotations

import math

from PySide6.QtCharts import (
    QBarCategoryAxis, QBarSeries, QBarSet, QChart, QHorizontalBarSeries, QLineSeries, QStackedBarSeries, QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPen

from gandrange_desk import formats

PALETTE = ("#1565C0", "#2E7D32", "#EF6C00", "#6A1B9A", "#00838F", "#AD1457")
MONEY_COLOURS = {"paid": "#2E7D32", "overdue": "#C62828", "not_due": "#90A4AE"}


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    font = QFont()
    font.setPointSizeF(11)
    font.setBold(True)
    chart.setTitleFont(font)
    chart.setAnimationOptions(QChart.NoAnimation)
    chart.legend().setAlignment(Qt.AlignBottom)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.setBackgroundRoundness(4)
    return chart


def _value_axis(maximum: float, title: str) -> QValueAxis:
    """From 0, whole numbers; a small maximum keeps one tick per unit (no "0 0 1 1")."""
    axis = QValueAxis()
    axis.setLabelFormat("%d")
    axis.setTitleText(title)
    if maximum < 8:
        top = max(4, math.ceil(maximum) + 1)
        axis.setRange(0, top)
        axis.setTickCount(top + 1)
    else:
        axis.setRange(0, maximum * 1.1)
        axis.applyNiceNumbers()
    return axis


def occupancy_chart(data) -> QChart:
    """Occupancy (% of capacity) per open day, one bar per unit; a line at 100 %."""
    chart = _chart(f"Occupation — {data.activity_name}, {formats.month_year(data.month)}" if data.activity_name
                   else "Occupation")
    series = QBarSeries()
    top = 100.0
    for i, unit in enumerate(data.units):
        bar = QBarSet(f"{unit.name} ({unit.capacity} places)" if unit.capacity else f"{unit.name} (sans limite)")
        bar.setColor(QColor(PALETTE[i % len(PALETTE)]))
        for rate in unit.rates():
            bar.append(rate or 0.0)
            top = max(top, rate or 0.0)
        series.append(bar)
    chart.addSeries(series)
    days = QBarCategoryAxis()
    days.append([str(d.day) for d in data.days] or ["—"])
    days.setTitleText(f"jours d'ouverture {formats.of_month(data.month)}")
    chart.addAxis(days, Qt.AlignBottom)
    axis = _value_axis(top, "% de la capacité")
    chart.addAxis(axis, Qt.AlignLeft)
    series.attachAxis(days)
    series.attachAxis(axis)
    if data.days:
        # The capacity line, drawn across the whole category range.
        line = QLineSeries()
        line.setName("Capacité")
        line.append(QPointF(-0.5, 100))
        line.append(QPointF(len(data.days) - 0.5, 100))
        line.setPen(QPen(QColor("#B00020"), 2, Qt.DashLine))
        chart.addSeries(line)
        hidden = QValueAxis()
        hidden.setRange(-0.5, len(data.days) - 0.5)
        hidden.setVisible(False)
        chart.addAxis(hidden, Qt.AlignBottom)
        line.attachAxis(hidden)
        line.attachAxis(axis)
    return chart


def money_chart(months) -> QChart:
    """Per billed month: paid, overdue and not yet due, stacked (their sum: what was billed)."""
    chart = _chart("Facturé, encaissé et impayé par mois")
    series = QStackedBarSeries()
    sets = {}
    for key, label in (("paid", "Encaissé"), ("overdue", "Impayé (échu)"), ("not_due", "À échoir")):
        bar = QBarSet(label)
        bar.setColor(QColor(MONEY_COLOURS[key]))
        sets[key] = bar
        series.append(bar)
    top = 0.0
    for m in months:
        sets["paid"].append(m.paid_cents / 100)
        sets["overdue"].append(m.overdue_cents / 100)
        sets["not_due"].append(m.not_due_cents / 100)
        top = max(top, (m.paid_cents + m.overdue_cents + m.not_due_cents) / 100)
    chart.addSeries(series)
    axis_x = QBarCategoryAxis()
    axis_x.append([formats.short_month_year(m.month) for m in months] or ["—"])
    chart.addAxis(axis_x, Qt.AlignBottom)
    axis_y = _value_axis(top, "euros")
    chart.addAxis(axis_y, Qt.AlignLeft)
    series.attachAxis(axis_x)
    series.attachAxis(axis_y)
    return chart


def waiting_chart(data) -> QChart:
    """Pending requests by how long they have waited."""
    chart = _chart("Demandes en attente, par ancienneté")
    bar = QBarSet("Demandes")
    bar.setColor(QColor("#1565C0"))
    for _label, n in data.buckets:
        bar.append(n)
    series = QBarSeries()
    series.append(bar)
    series.setLabelsVisible(True)
    chart.addSeries(series)
    axis_x = QBarCategoryAxis()
    axis_x.append([label for label, _ in data.buckets])
    chart.addAxis(axis_x, Qt.AlignBottom)
    axis_y = _value_axis(max((n for _, n in data.buckets), default=0), "demandes")
    chart.addAxis(axis_y, Qt.AlignLeft)
    series.attachAxis(axis_x)
    series.attachAxis(axis_y)
    chart.legend().setVisible(False)
    return chart


def mail_chart(data) -> QChart:
    """E-mails in trouble, horizontal bars."""
    chart = _chart("Courriels en difficulté")
    bar = QBarSet("Courriels")
    bar.setColor(QColor("#C62828"))
    bars = data.bars()
    for _label, n in bars:
        bar.append(n)
    series = QHorizontalBarSeries()
    series.append(bar)
    series.setLabelsVisible(True)
    chart.addSeries(series)
    axis_y = QBarCategoryAxis()
    axis_y.append([label for label, _ in bars])
    chart.addAxis(axis_y, Qt.AlignLeft)
    axis_x = _value_axis(max((n for _, n in bars), default=0), "")
    chart.addAxis(axis_x, Qt.AlignBottom)
    series.attachAxis(axis_y)
    series.attachAxis(axis_x)
    chart.legend().setVisible(False)
    return chart

