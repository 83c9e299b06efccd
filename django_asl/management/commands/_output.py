"""Helpers shared by the ``asl_*`` commands (a private module: Django lists no command for it)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


class Encoder(DjangoJSONEncoder):
    """DjangoJSONEncoder that writes datetimes as ``describe_execution`` does (``isoformat()``)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def to_json(value: Any) -> str:
    """Return ``value`` as indented JSON; datetimes, UUIDs and decimals become strings."""
    return json.dumps(value, indent=2, ensure_ascii=False, cls=Encoder)
