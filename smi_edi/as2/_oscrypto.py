"""Let oscrypto 1.3.0 (pyas2lib's crypto backend, the latest on PyPI) read OpenSSL version
strings with a two-digit patch number ("OpenSSL 3.0.19"): its version regex matches one
digit only and the import fails with "Error detecting the version of libcrypto" (oscrypto
issue #78, fixed upstream after 1.3.0 and not yet released). While oscrypto's OpenSSL
binding is imported, the one pattern is widened exactly as upstream did; nothing else
changes. Import this module before pyas2lib or oscrypto."""

from __future__ import annotations

import re
import sys

_BROKEN = "\\b(\\d\\.\\d\\.\\d[a-z]*)\\b"
_FIXED = "\\b(\\d\\.\\d\\.\\d+[a-z]*)\\b"


def _load() -> None:
    if "oscrypto._openssl._libcrypto" in sys.modules:
        return
    original = re.search

    def search(pattern, string, flags=0):
        return original(_FIXED if pattern == _BROKEN else pattern, string, flags)

    re.search = search
    try:
        import oscrypto.asymmetric  # noqa: F401  (binds libcrypto once)
    except Exception:
        pass
    finally:
        re.search = original


_load()
