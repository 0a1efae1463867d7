"""Presets: one Python file each, defining `get_config() -> jaxgan.config.Config`.

Each preset's docstring states its command, its expected result and its run time.
"""
