"""current_time and convert_time: the time now in a zone, and a time moved between zones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agents.tools.base import BaseTool, ToolArgumentsError


def _zone(name: str, field: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolArgumentsError(
            f"{field}: unknown time zone {name!r} (use an IANA name like 'Asia/Shanghai')",
            param=field,
        ) from None


class CurrentTimeTool(BaseTool):
    name = "current_time"
    description = "The current date and time in a time zone (IANA name, default UTC)."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {"timezone": {"type": "string", "description": "e.g. Europe/Paris"}},
        "additionalProperties": False,
    }

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        zone = _zone(arguments.get("timezone") or "UTC", "timezone")
        now = datetime.now(UTC).astimezone(zone)
        return {
            "timezone": str(zone),
            "iso": now.isoformat(timespec="seconds"),
            "date": now.date().isoformat(),
            "time": now.strftime("%H:%M:%S"),
            "weekday": now.strftime("%A"),
            "utc_offset": now.strftime("%z"),
        }


class ConvertTimeTool(BaseTool):
    name = "convert_time"
    description = "Convert a date-time (ISO 8601) from one time zone to another."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {
            "time": {"type": "string", "description": "e.g. 2026-11-22T09:30:00"},
            "from_timezone": {"type": "string", "description": "IANA zone of 'time'"},
            "to_timezone": {"type": "string", "description": "IANA zone to convert to"},
        },
        "required": ["time", "from_timezone", "to_timezone"],
        "additionalProperties": False,
    }

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        source = _zone(arguments["from_timezone"], "from_timezone")
        target = _zone(arguments["to_timezone"], "to_timezone")
        try:
            moment = datetime.fromisoformat(arguments["time"])
        except ValueError:
            raise ToolArgumentsError(
                f"time: {arguments['time']!r} is not an ISO 8601 date-time", param="time"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=source)
        converted = moment.astimezone(target)
        return {"time": converted.isoformat(timespec="seconds"), "timezone": str(target)}
