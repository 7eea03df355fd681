"""PySide6 6.12.0 on CPython 3.11 drops a reference to None on every QTableWidget.setItem.

The interpreter dies later in none_dealloc. This test fails on such a release: it counts the
references to None around many setItem calls.
"""

import sys

import PySide6
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem


def test_pyside_version_is_pinned_below_6_12():
    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (6, 11) <= (major, minor) < (6, 12), PySide6.__version__


def test_set_item_keeps_none_refcount(qapp):
    import gc

    table = QTableWidget(50, 20)
    # A garbage collection during the loop frees objects that held None: not the leak looked for.
    gc.collect()
    gc.disable()
    try:
        before = sys.getrefcount(None)
        for row in range(50):
            for col in range(20):
                table.setItem(row, col, QTableWidgetItem(f"{row}:{col}"))
        after = sys.getrefcount(None)
    finally:
        gc.enable()
    # A leak of one reference per call would show as ~1,000 missing references.
    assert before - after < 100, f"None lost {before - after} references over 1,000 setItem calls"
