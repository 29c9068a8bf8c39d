"""Settings: the add-on's config.json defaults merged with what the user changed."""
import json
import os
from typing import Any, Dict, Mapping, Optional

ADDON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULTS_PATH = os.path.join(ADDON_DIR, "config.json")


def defaults() -> Dict[str, Any]:
    with open(DEFAULTS_PATH, encoding="utf-8") as f:
        return json.load(f)


def merged(user: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Defaults overlaid with the user's values; unknown keys are kept (forward compatible)."""
    cfg = defaults()
    for key, value in (user or {}).items():
        if value is not None:
            cfg[key] = value
    return cfg
