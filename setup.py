"""Build the optional C accelerator; every other setting is in setup.cfg.

``optional=True``: without a compiler or Python headers the install still
succeeds and :mod:`smsgw.protocols.wire` runs its pure-Python code.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "smsgw.protocols._wire",
            ["smsgw/protocols/_wire.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall"],
        )
    ]
)
