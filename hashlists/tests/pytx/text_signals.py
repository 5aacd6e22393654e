"""python-threatexchange's URL and text signals, for hashlists/tests/pytx_text.rs.

Reads one JSON object from stdin: {"urls": [...], "texts": [...], "pairs": [[entry, post], ...]}
and prints what pytx makes of each: url_md5 of every URL, normalize_string of every text, and
whether each raw_text entry matches each post text (null where pytx itself fails: its
Levenshtein takes ASCII only).

Run with the venv of scripts/pytx-venv.
"""

import json
import sys

from threatexchange import common
from threatexchange.signal_type.raw_text import RawTextSignal
from threatexchange.signal_type.url_md5 import UrlMD5Signal


def matches(entry, post):
    try:
        return RawTextSignal.matches_str(entry, post).match
    except UnicodeEncodeError:
        return None


cases = json.load(sys.stdin)
json.dump(
    {
        "url_md5": [UrlMD5Signal.hash_from_str(u) for u in cases["urls"]],
        "normalized": [common.normalize_string(t) for t in cases["texts"]],
        "matches": [matches(a, b) for a, b in cases["pairs"]],
    },
    sys.stdout,
)
