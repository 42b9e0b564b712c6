"""scan: find `StaticImage(...)` calls in Python and Jinja sources and evaluate their props."""
