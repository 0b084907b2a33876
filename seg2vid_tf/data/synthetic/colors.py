"""Colours of the synthetic scenes: the RGB helper and the palettes objects are drawn from."""

import numpy as np

CAR_COLORS = [(235, 235, 232), (170, 172, 176), (40, 42, 46), (150, 28, 30),
              (34, 62, 130), (90, 96, 104), (26, 80, 60), (200, 150, 40),
              (110, 24, 40), (60, 110, 170)]
BUILDING_COLORS = [(196, 180, 150), (170, 96, 74), (150, 150, 146), (214, 206, 190),
                   (132, 110, 90), (186, 160, 120), (120, 126, 136), (200, 190, 170),
                   (160, 130, 110), (100, 96, 92)]
SKIN = [(232, 190, 160), (200, 150, 110), (150, 100, 70), (100, 66, 46)]
CLOTHES = [(30, 40, 80), (180, 30, 40), (40, 40, 44), (220, 220, 214), (60, 110, 60),
           (200, 160, 60), (90, 60, 120), (120, 120, 124), (30, 90, 160), (160, 90, 50)]
HAIR = [(30, 24, 20), (90, 60, 30), (170, 140, 90), (120, 120, 118)]


def rgb(*c):
    """A float64 RGB colour (0..255 units)."""
    return np.array(c, dtype=np.float64)


def pick(rng, palette, jitter=10.0):
    """A random colour of ``palette``, each channel jittered by up to ``jitter``."""
    c = np.array(palette[rng.integers(len(palette))], np.float64)
    return np.clip(c + rng.uniform(-jitter, jitter, 3), 0, 255)
