"""Gandrange Desk: the bureau périscolaire's side of the Portail Famille."""

__version__ = "0.1.0"
