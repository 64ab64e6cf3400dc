"""The compiled parts; everything else is in pyproject.toml.

arabic_ner/_kernels.pyx holds the tagger's loops, arabic_ner/_slots.c rebuilds entities
from their fields (what pipe(n_process) does with each one its workers send back). Both
are optional: where they cannot be built (no C compiler), pip installs the package without
them, the same loops run in numpy (arabic_ner/kernels.py says which) and entities are
rebuilt in Python (arabic_ner/entities.py), with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "arabic_ner._kernels",
            ["arabic_ner/_kernels.pyx"],
            # No fused multiply-add: each product is rounded before it is added, as numpy
            # does, wherever the compiler could otherwise contract the two.
            depends=["arabic_ner/_lstm.h"],
            extra_compile_args=["-O3", "-ffp-contract=off"],
            optional=True,
        ),
        # Entities rebuilt from their fields in C (entities.py says why); plain C, since it
        # reaches CPython's member descriptors.
        Extension(
            "arabic_ner._slots",
            ["arabic_ner/_slots.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
    ]
)
