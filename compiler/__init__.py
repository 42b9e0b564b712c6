"""staticimg.compiler: everything that runs at build time.

scan (find calls, evaluate props) → props (normalise, validate) → images → data → inject.
It imports the runtime freely; the runtime never imports it.
"""
