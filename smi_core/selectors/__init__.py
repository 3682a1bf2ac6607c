"""Reads that more than one caller needs (API, command line, admin, planning, finance)."""

from .positions import decimal_text, position_as_dict, positions_list

__all__ = ["decimal_text", "position_as_dict", "positions_list"]
