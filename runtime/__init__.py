"""staticimg: build-time responsive images for Python and Jinja.

This package is what application code imports at render time. It depends on the standard
library, markupsafe and orjson only; the build-time compiler lives in `staticimg.compiler`
and is never imported from here.
"""

from staticimg.hashing import props_hash

__all__ = ["props_hash"]
__version__ = "0.1.0"
