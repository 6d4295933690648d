"""Turn published records (``registry.published.records``) into the API's JSON shapes.

Every field is listed explicitly (an allow-list): nothing from the contact or any other
personal data ever reaches these dicts, and no address below the level of the town.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any


def _dt(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _codes(text: str) -> list[str]:
    return [part for part in (text or "").split() if part]


def organisation(school: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": school["name"],
        "brin": school["brin"],
        "location_number": school["location_number"],
        "sector": school["sector"],
        "levels": school["levels"],
        "qualification_codes": _codes(school["qualification_codes"]),
        "city": school["city"],
        "municipality": school["municipality"],
        "province": school["province"],
        "website": school["website"],
        "latitude": school["latitude"],
        "longitude": school["longitude"],
        "geo_precision": school["geo_precision"],
    }


def obstacle(item: dict[str, Any], initiative_id: int | None = None) -> dict[str, Any]:
    return {
        "id": item["id"],
        "initiative_id": item.get("initiative_id", initiative_id),
        "area": item["area"],
        "title": item["title"],
        "description": item["description"],
        "rule": item["rule"],
        "severity": item["severity"],
        "status": item["status"],
        "workaround": item["workaround"],
        "policy_ask": item["policy_ask"],
        "theme_id": item["theme_id"],
    }


def initiative_summary(rec: dict[str, Any], url: str, html_url: str) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "reference": rec["reference"],
        "title": rec["title"],
        "summary": rec["summary"],
        "phase": rec["phase"],
        "start_year": rec["start_year"],
        "learners_count": rec["learners_count"],
        "staff_count": rec["staff_count"],
        "language": rec["language"],
        "published_at": _dt(rec["published_at"]),
        "updated_at": _dt(rec["updated_at"]),
        "areas": sorted({o["area"] for o in rec["obstacles"]}),
        "obstacle_count": len(rec["obstacles"]),
        "organisation": organisation(rec["school"]),
        "url": url,
        "html_url": html_url,
    }


def initiative_detail(rec: dict[str, Any], url: str, html_url: str) -> dict[str, Any]:
    out = initiative_summary(rec, url, html_url)
    out.update({
        "description": rec["description"],
        "ict": rec["ict"],
        "dimensions": [
            {"code": code, "current_level": levels[0], "ambition_level": levels[1]}
            for code, levels in rec["dimensions"].items()
        ],
        "obstacles": [obstacle(o, rec["id"]) for o in rec["obstacles"]],
    })
    return out


def theme(item: dict[str, Any], url: str) -> dict[str, Any]:
    """A curated theme: the Dutch texts, and the optional English ones (``*_en``, "" when
    the moderator wrote none)."""
    return {
        "id": item["id"],
        "area": item["area"],
        "title": item["title"],
        "description": item["description"],
        "ask": item["ask"],
        "title_en": item["title_en"],
        "description_en": item["description_en"],
        "ask_en": item["ask_en"],
        "rules": [{"id": i + 1, "title": r["title"], "level": r["level"],
                   "source_url": r["source_url"], "existing_room": r["existing_room"],
                   "title_en": r["title_en"], "existing_room_en": r["existing_room_en"]}
                  for i, r in enumerate(item["rules"])],
        "url": url,
    }
