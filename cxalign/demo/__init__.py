"""The demo organisation a newcomer meets on ``make run``: a closed, scored wave and an open one.

It sits at the top of the layers: seeding drives the same survey operations a CX leader
uses (``cxalign.surveys.operations``), so the demo can never show what the product
cannot do.
"""

from cxalign.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, WAVE_1_TITLE, WAVE_2_TITLE, seed_demo

__all__ = ["DEMO_EMAIL", "DEMO_PASSWORD", "WAVE_1_TITLE", "WAVE_2_TITLE", "seed_demo"]
