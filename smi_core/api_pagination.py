"""Strict limit/offset pagination for every API list (its own module: DRF imports the
pagination class named in settings while its own views are still loading)."""

from __future__ import annotations

import re

from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000
MAX_OFFSET = 10**12


def int_param(request, name: str, default: int, minimum: int, maximum: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,18}", raw):
        raise exceptions.ValidationError({name: f"{raw!r} is not a whole number"})
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise exceptions.ValidationError({name: f"must be {bound}, not {value}"})
    return value


class Pagination(LimitOffsetPagination):
    """limit/offset with a default of 100 and a maximum of 1,000; a limit or offset that is
    not a whole number in range is a 400, never silently replaced."""

    default_limit = 100
    max_limit = MAX_LIMIT

    def get_limit(self, request):
        return int_param(request, "limit", self.default_limit, 1, self.max_limit)

    def get_offset(self, request):
        return int_param(request, "offset", 0, 0, MAX_OFFSET)
