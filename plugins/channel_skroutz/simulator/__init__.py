"""A Skroutz Smart Cart simulator (Merchants API v3 and the order webhook) for tests and the demo."""

from plugins.channel_skroutz.simulator.market import Line, SkroutzError, SmartCart
from plugins.channel_skroutz.simulator.server import SkroutzSimulator

__all__ = ["Line", "SkroutzError", "SkroutzSimulator", "SmartCart"]
