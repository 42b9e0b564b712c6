"""staticimg: build-time responsive images for Python and Jinja.

This package is what application code imports at render time. It depends on the standard
library, markupsafe and orjson only; the build-time compiler lives in `staticimg.compiler`
and is never imported from here.
"""

from staticimg.hashing import props_hash
from staticimg.image_data import get_image_data, get_low_resolution_image_url

__all__ = ["get_image_data", "get_low_resolution_image_url", "props_hash"]
__version__ = "0.1.0"
