"""Kuaidi100 (快递100) tracking provider: ``client.py`` (network), ``parse.py`` (pure),
``statuses.py`` (state-code table)."""

from carriers.kuaidi100.adapter import Kuaidi100Carrier, Kuaidi100Settings

__all__ = ["Kuaidi100Carrier", "Kuaidi100Settings"]
