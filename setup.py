"""The compiled loops (arabic_ner/_kernels.pyx); everything else is in pyproject.toml.

The extension is optional: where it cannot be built (no C compiler), pip installs the
package without it and the same loops run in numpy (arabic_ner/kernels.py says which).
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
        )
    ]
)
