"""Sprites: the road users and street furniture drawn on billboards.

Each ``sprite_*(u, a, params)`` returns ``(mask, rgb [N, 3], label [N])``
for local coordinates ``u`` (metres to the right of the sprite origin) and
``a`` (metres above ground); ``params`` are drawn by :mod:`sampling`.
"""

import numpy as np

from seg2vid_tf.data.synthetic import colors
from seg2vid_tf.data.synthetic.classes import (BICYCLE, BUS, CAR, MOTORCYCLE, PERSON, POLE,
                                               RIDER, TRAFFIC_LIGHT, TRAFFIC_SIGN, TRAIN,
                                               TRUCK, VEGETATION)
from seg2vid_tf.data.synthetic.noise import noise


def _round_box(u, a, u0, u1, a0, a1, r):
    """Axis-aligned box with rounded corners of radius r."""
    inside = (u >= u0) & (u <= u1) & (a >= a0) & (a <= a1)
    cu = np.clip(u, u0 + r, u1 - r)
    ca = np.clip(a, a0 + r, a1 - r)
    return inside & ((u - cu) ** 2 + (a - ca) ** 2 <= r * r)


def sprite_car(u, a, p):
    """A car (or truck / bus) seen from the back or the front."""
    n = u.shape[0]
    w, hb, kind = p["w"], p["h"], p["vehicle"]
    hw = w / 2.0
    rgb = np.zeros((n, 3))
    body_col = p["color"]
    label = {"car": CAR, "truck": TRUCK, "bus": BUS, "tram": TRAIN}[kind]
    lab = np.full(n, label, np.uint8)
    wheel = (np.abs(np.abs(u) - (hw - 0.28)) < 0.16) & (a <= 0.42)
    if kind == "car":
        body_top = 0.56 * hb
        body = _round_box(u, a, -hw, hw, 0.22, body_top, 0.1)
        frac = np.clip((a - body_top) / (hb - body_top), 0, 1)
        cab_hw = hw * (0.93 - 0.2 * frac)
        cabin = (a > body_top - 0.01) & (np.abs(u) <= cab_hw) & \
            _round_box(u, a, -hw, hw, 0.2, hb, 0.2)
        glass = (a > body_top + 0.06) & (a < hb - 0.07) & (np.abs(u) < cab_hw - 0.1)
        mask = wheel | body | cabin
        shade = 0.62 + 0.38 * np.clip(a / body_top, 0, 1)
        rgb[:] = body_col * shade[:, None]
        rgb[cabin] = body_col * 0.92
        light_a = (a > body_top - 0.2) & (a < body_top - 0.06)
    else:
        top = hb
        body = _round_box(u, a, -hw, hw, 0.35, top, 0.15)
        mask = wheel | body
        shade = 0.7 + 0.3 * np.clip(a / top, 0, 1)
        rgb[:] = body_col * shade[:, None]
        if kind in ("bus", "tram"):
            glass = (a > 1.25) & (a < hb - 0.35) & (np.abs(u) < hw - 0.12)
            dest = (a > hb - 0.3) & (a < hb - 0.08) & (np.abs(u) < hw * 0.6)
            rgb[dest] = colors.rgb(250, 150, 40)
        else:
            glass = np.zeros(n, bool)
            panels = (np.mod(u + hw, 0.6) < 0.04) & (a > 0.8)
            rgb[panels] *= 0.75
        light_a = (a > 0.55) & (a < 0.8)
    g = np.clip((a - 0.4) / max(hb - 0.4, 0.1), 0, 1)
    rgb[glass] = colors.rgb(46, 58, 72) * (0.75 + 0.6 * g[glass])[:, None]
    bumper = (a >= 0.2) & (a < 0.34) & body
    rgb[bumper] = colors.rgb(44, 44, 48)
    plate = (np.abs(u) < 0.26) & (a > 0.36) & (a < 0.5)
    rgb[plate] = colors.rgb(226, 226, 214)
    lights = light_a & (np.abs(u) > hw - 0.34) & (np.abs(u) < hw - 0.06)
    if p["front"]:
        rgb[lights] = colors.rgb(248, 244, 214)
        grille = (np.abs(u) < hw * 0.42) & (a > 0.5) & light_a
        rgb[grille] = colors.rgb(30, 30, 34)
    else:
        rgb[lights] = colors.rgb(196, 28, 24)
    tyre = wheel & ~(body | (a > 0.42))
    rgb[wheel & (a <= 0.22)] = colors.rgb(22, 22, 24)
    rgb[tyre] = colors.rgb(22, 22, 24)
    return mask, rgb, lab


def sprite_person(u, a, p):
    """A pedestrian (label person) or the upper body of a rider."""
    n = u.shape[0]
    H = p["h"]
    s = H / 1.75
    rgb = np.zeros((n, 3))
    lab = np.full(n, p.get("label", PERSON), np.uint8)
    leg = (np.abs(np.abs(u) - 0.085 * s) < 0.068 * s) & (a < 0.48 * H) & (a >= p.get("leg0", 0.0))
    t0, t1 = 0.47 * H, 0.815 * H
    tf = np.clip((a - t0) / (t1 - t0), 0, 1)
    half = 0.15 * s + 0.075 * s * tf
    torso = (a >= t0) & (a < t1) & (np.abs(u) < half)
    sleeve = torso & (np.abs(u) > half - 0.065 * s)
    hand = (a >= 0.43 * H) & (a < t0) & (np.abs(np.abs(u) - (0.15 * s - 0.03 * s)) < 0.035 * s)
    neck = (a >= t1) & (a < 0.845 * H) & (np.abs(u) < 0.045 * s)
    hc = 0.91 * H
    head = (u / (0.085 * s)) ** 2 + ((a - hc) / (0.105 * s)) ** 2 <= 1.0
    mask = leg | torso | hand | neck | head
    rgb[leg] = p["trousers"] * (0.75 + 0.35 * (a[leg] / (0.48 * H)))[:, None]
    shoe = leg & (a < 0.045 * H)
    rgb[shoe] = colors.rgb(30, 28, 28)
    rgb[torso] = p["shirt"] * (0.8 + 0.25 * tf[torso])[:, None]
    rgb[sleeve] = p["shirt"] * 0.78
    rgb[hand | neck] = p["skin"] * 0.9
    rgb[head] = p["skin"]
    hair = head & ((a > hc + 0.03 * s) | p["back"])
    rgb[hair] = p["hair"]
    if "bag" in p:
        bag = (u > half * 0.2) & (u < half + 0.04 * s) & (a > 0.5 * H) & (a < 0.68 * H)
        rgb[bag & mask] = p["bag"]
    return mask, rgb, lab


def sprite_cyclist(u, a, p):
    """A rider (label rider) on a bicycle or motorcycle seen from behind."""
    n = u.shape[0]
    moto = p["moto"]
    tw = 0.07 if moto else 0.035
    wheel_h = 0.62 if moto else 0.68
    rgb = np.zeros((n, 3))
    lab = np.full(n, MOTORCYCLE if moto else BICYCLE, np.uint8)
    tyre = (np.abs(u) < tw) & (a < wheel_h)
    frame = (np.abs(u) < 0.025) & (a >= wheel_h) & (a < 0.9)
    bar = (np.abs(u) < 0.3) & (a > 0.98) & (a < 1.03)
    if moto:
        frame = (np.abs(u) < 0.2) & (a >= 0.35) & (a < 0.95)
    bike = tyre | frame | bar
    rgb[tyre] = colors.rgb(24, 24, 26)
    rgb[frame | bar] = p["bike"]
    rider_p = dict(p["rider"])
    rider_p.update(h=1.75, label=RIDER, leg0=0.45)
    rmask, rrgb, rlab = sprite_person(u, a + 0.05, rider_p)
    rmask &= a > 0.5
    mask = bike | rmask
    rgb[rmask] = rrgb[rmask]
    lab[rmask] = RIDER
    # The bicycle is in front of the rider's legs.
    rgb[bike] = np.where(tyre[bike, None], colors.rgb(24, 24, 26), p["bike"])
    lab[bike] = MOTORCYCLE if moto else BICYCLE
    return mask, rgb, lab


def _metal(u, width, color):
    """Cylindrical shading across a pole of the given width."""
    t = np.clip(np.abs(u) / (width / 2.0), 0, 1)
    return color * (1.05 - 0.45 * t * t)[:, None]


def sprite_pole(u, a, p):
    """A pole or a street light with an arm towards the road."""
    n = u.shape[0]
    pw, ph = p["w"], p["h"]
    rgb = np.zeros((n, 3))
    lab = np.full(n, POLE, np.uint8)
    taper = pw * (1.0 - 0.35 * np.clip(a / ph, 0, 1))
    pole = (np.abs(u) <= taper / 2) & (a <= ph)
    mask = pole.copy()
    rgb[pole] = _metal(u[pole], pw, p["color"])
    if p["arm"] != 0:
        d = p["arm"]
        ext = u * d
        arm = (ext >= 0) & (ext <= p["arm_len"]) & (np.abs(a - (ph - 0.1)) < 0.06)
        lamp = (np.abs(ext - p["arm_len"]) < 0.28) & (a > ph - 0.32) & (a < ph - 0.05)
        mask |= arm | lamp
        rgb[arm] = p["color"] * 0.9
        rgb[lamp] = p["color"] * 0.75
        bulb = lamp & (a < ph - 0.24)
        rgb[bulb] = colors.rgb(230, 228, 210)
    return mask, rgb, lab


def sprite_sign(u, a, p):
    """A traffic sign: plate (traffic sign) on a thin pole (pole)."""
    n = u.shape[0]
    ph, r = p["h"], p["r"]
    rgb = np.zeros((n, 3))
    lab = np.full(n, POLE, np.uint8)
    pole = (np.abs(u) < 0.04) & (a <= ph)
    rgb[pole] = _metal(u[pole], 0.08, colors.rgb(150, 152, 156))
    ac = ph + r
    du, da = u, a - ac
    shape = p["shape"]
    if shape == "circle":
        rr = np.sqrt(du ** 2 + da ** 2) / r
        plate = rr <= 1.0
        inner = rr <= 0.78
        col = np.where(inner[:, None], colors.rgb(240, 240, 236), colors.rgb(200, 30, 36))
        bar = inner & (np.abs(da) < 0.12 * r) & (np.abs(du) < 0.6 * r) & p["bar"]
        col[bar] = colors.rgb(200, 30, 36) if p["bar_red"] else colors.rgb(20, 20, 20)
    elif shape == "triangle":
        # Upward pointing triangle with a red border.
        t = (da + r) / (2 * r)
        plate = (t >= 0) & (t <= 1) & (np.abs(du) <= r * (1 - t))
        inner = (t >= 0.16) & (t <= 0.8) & (np.abs(du) <= r * (1 - t) - 0.1 * r)
        col = np.where(inner[:, None], colors.rgb(246, 240, 220), colors.rgb(200, 30, 36))
    else:
        plate = (np.abs(du) <= r) & (np.abs(da) <= r)
        inner = (np.abs(du) <= 0.85 * r) & (np.abs(da) <= 0.85 * r)
        col = np.where(inner[:, None], p["plate"], colors.rgb(238, 238, 238))
        arrow = inner & (np.abs(du) < 0.12 * r) & (da < 0.4 * r)
        head = inner & (da >= 0.3 * r) & (np.abs(du) < (0.75 * r - da) * 0.8)
        col[arrow | head] = colors.rgb(238, 238, 238)
    mask = pole | plate
    rgb[plate] = col[plate]
    lab[plate] = TRAFFIC_SIGN
    return mask, rgb, lab


def sprite_traffic_light(u, a, p):
    """A traffic light: housing (traffic light) on a pole (pole)."""
    n = u.shape[0]
    ph = p["h"]
    rgb = np.zeros((n, 3))
    lab = np.full(n, POLE, np.uint8)
    pole = (np.abs(u) < 0.07) & (a <= ph)
    rgb[pole] = _metal(u[pole], 0.14, colors.rgb(90, 92, 96))
    box = _round_box(u, a, -0.2, 0.2, ph, ph + 0.95, 0.06)
    rgb[box] = colors.rgb(34, 36, 34)
    lab[box] = TRAFFIC_LIGHT
    lamp_cols = (colors.rgb(230, 40, 30), colors.rgb(240, 170, 30), colors.rgb(40, 220, 110))
    for k in range(3):
        ac = ph + 0.78 - 0.3 * k
        lamp = (u ** 2 + (a - ac) ** 2) <= 0.1 ** 2
        on = k == p["state"]
        rgb[lamp] = lamp_cols[k] * (1.0 if on else 0.25)
    return pole | box, rgb, lab


def sprite_tree(u, a, p):
    """A tree (trunk + irregular noisy crown) or a bush (crown only)."""
    n = u.shape[0]
    rgb = np.zeros((n, 3))
    lab = np.full(n, VEGETATION, np.uint8)
    s = p["seed"]
    rx, ry, ac = p["rx"], p["ry"], p["ac"]
    r = np.sqrt((u / rx) ** 2 + ((a - ac) / ry) ** 2)
    edge = noise(u * 1.4, a * 1.4, s) - 0.5
    crown = (r <= 0.9 + 0.45 * edge) & (a >= 0)
    trunk = (np.abs(u) <= p["tw"] / 2) & (a <= p["th"]) & (p["tw"] > 0)
    trunk &= ~crown
    mask = crown | trunk
    leaf = noise(u * 4.0, a * 4.0, s + 1) - 0.5
    clump = noise(u * 1.1, a * 1.1, s + 2) - 0.5
    light = 0.72 + 0.28 * np.clip((a - ac + ry) / (2 * ry), 0, 1)
    col = p["color"] * (light * (1.0 + 0.5 * leaf + 0.45 * clump))[:, None]
    rgb[crown] = col[crown]
    bark = noise(u * 6.0, a * 1.5, s + 3) - 0.5
    rgb[trunk] = colors.rgb(92, 70, 50) * (1.0 + 0.3 * bark[trunk])[:, None] * \
        (0.8 + 0.2 * np.clip(u[trunk] / p["tw"] + 0.5, 0, 1))[:, None]
    return mask, rgb, lab
