"""Payments taken at the shop's counter (point of sale): cash and a card terminal. The money is
in the till or on the terminal's batch when the store order is placed, so a start is a capture;
refunds are paid back at the counter (cash) or to the card on the terminal, and recorded."""

from plugins.psp_counter.processor import CounterPayment

__all__ = ["CounterPayment"]
