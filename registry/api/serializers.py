"""Turn published data into plain dicts for the API.

Every field is listed explicitly (an allow-list): nothing from ``Contact`` or any other
personal data ever reaches these dicts, and no address below the level of the town.
"""
from __future__ import annotations

from typing import Any

from registry.database import as_utc
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.models import Initiative, Obstacle, Organisation


def _dt(value) -> str | None:
    value = as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def _codes(text: str) -> list[str]:
    return [part for part in (text or "").split() if part]


def organisation(org: Organisation) -> dict[str, Any]:
    return {
        "name": org.name,
        "brin": org.brin,
        "location_number": org.location_number,
        "sector": org.sector,
        "levels": org.levels or "",
        "qualification_codes": _codes(org.qualification_codes),
        "city": org.city or "",
        "municipality": org.municipality,
        "province": org.province,
        "website": org.website or "",
        "latitude": org.latitude,
        "longitude": org.longitude,
        "geo_precision": org.geo_precision,
    }


def obstacle(item: Obstacle) -> dict[str, Any]:
    return {
        "id": item.id,
        "initiative_id": item.initiative_id,
        "area": item.area_code,
        "title": item.title,
        "description": item.description or "",
        "rule": item.rule or "",
        "severity": item.severity,
        "status": item.status,
        "workaround": item.workaround or "",
        "policy_ask": item.policy_ask or "",
        "theme_id": item.theme_id,
    }


def initiative_summary(item: Initiative, url: str, html_url: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "reference": item.reference,
        "title": item.title,
        "summary": item.summary,
        "phase": item.phase,
        "start_year": item.start_year,
        "learners_count": item.learners_count,
        "staff_count": item.staff_count,
        "language": item.language,
        "published_at": _dt(item.published_at),
        "updated_at": _dt(item.updated_at),
        "areas": sorted({o.area_code for o in item.obstacles}),
        "obstacle_count": len(item.obstacles),
        "organisation": organisation(item.organisation),
        "url": url,
        "html_url": html_url,
    }


def initiative_detail(item: Initiative, url: str, html_url: str) -> dict[str, Any]:
    out = initiative_summary(item, url, html_url)
    out.update({
        "description": item.description or "",
        "ict": item.ict or "",
        "dimensions": [
            {"code": d.dimension_code, "current_level": d.current_level,
             "ambition_level": d.ambition_level}
            for d in item.dimensions
        ],
        "obstacles": [obstacle(o) for o in item.obstacles],
    })
    return out


def theme_rule(rule: ThemeRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "level": rule.level,
        "source_url": rule.source_url or "",
        "existing_room": rule.existing_room or "",
    }


def theme(item: Theme, url: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "area": item.area_code,
        "title": item.title,
        "description": item.description or "",
        "rules": [theme_rule(r) for r in item.rules],
        "url": url,
    }
