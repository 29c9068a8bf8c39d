"""The user's settings from a file, for the command line: the add-on's ``config.json`` shape
(``{"model": ..., ...}``) or Anki's ``meta.json`` of the add-on (``{"config": {...}, "mod": ...}``),
so a script runs with what the user set in Anki."""
import argparse
import json
from typing import Any, Dict, List

from ..config import BackendKind, Settings

from ..errors import FlashcardError
from ..outside import shown

MAX_BYTES = 1 << 20  # a settings file is a few kB


def read_settings_file(path: str) -> Dict[str, Any]:
    """The settings in ``path`` (not merged with the defaults). Raises FlashcardError with
    what to do when the file cannot be used."""
    from ..sources.read import open_regular

    try:
        with open_regular(path) as f:  # a FIFO or device would block open() or never end
            raw = f.read(MAX_BYTES + 1)
    except (OSError, FlashcardError) as e:
        why = e.message if isinstance(e, FlashcardError) else f"{e.strerror or e}."
        raise FlashcardError(f"The settings file cannot be read: {why}",
                             "Pass the add-on's config.json or Anki's meta.json of the add-on.") from None
    if len(raw) > MAX_BYTES:
        raise FlashcardError(f"The settings file '{shown(path)}' is too large for a settings file.",
                             "Pass the add-on's config.json or Anki's meta.json of the add-on.")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FlashcardError(f"The settings file '{shown(path)}' is not valid JSON ({e}).",
                             "Fix the file, or copy the settings again from Anki.") from None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data = data["config"]  # meta.json: Anki keeps the add-on's settings under "config"
    if not isinstance(data, dict):
        raise FlashcardError(f"The settings file '{shown(path)}' holds no settings object.",
                             "It should look like config.json: {\"model\": \"llama3.2\", ...}.")
    return {str(k): v for k, v in data.items()}


def server_config(args: argparse.Namespace) -> Settings:
    """The settings (config.json's, or the file of --config) with the command line's server
    options (--url, --backend, --api-key). A bad value in the file keeps its default and is said
    on stderr."""
    from .run import err

    user = read_settings_file(args.config) if args.config else {}
    problems: List[str] = []
    base = Settings.from_dict(user, problems)
    for problem in problems:
        err(f"{shown(args.config, 200)}: {shown(problem, 1000)}")
    changes = {key: value for key, value in (("url", args.url), ("backend", args.backend),
                                             ("api_key", args.api_key)) if value is not None}
    if args.backend is not None and args.url is None and not user.get("url"):
        changes["url"] = BackendKind.parse(args.backend).default_url
    return base.replace(**changes)
