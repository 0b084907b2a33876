"""Textures and labels of the static world: the sky, the ground and the facades.

Textures are attached to the surfaces: each is a function of the hit's
*surface coordinates* (the ground's world ``(X, Z)``, a facade's ``(Z,
height)``; the sky's ray direction), so brightness constancy holds.
"""

import numpy as np

from seg2vid_tf.data.synthetic import colors
from seg2vid_tf.data.synthetic.classes import (BUILDING, FENCE, ROAD, SIDEWALK, TERRAIN,
                                               VEGETATION, WALL)
from seg2vid_tf.data.synthetic.noise import fbm, hash01, noise
from seg2vid_tf.data.synthetic.scene import (FACADE_BUILDING, FACADE_FENCE, FACADE_GAP,
                                             FACADE_HEDGE, FACADE_WALL)


def shade_sky(scene, dxr, dyr):
    """Sky colour from the ray direction (the sky is at infinity)."""
    elev = np.clip(-dyr / 0.9, 0.0, 1.0)[..., None]
    rgb = scene.sky_horizon * (1.0 - elev) + scene.sky_top * elev
    if scene.cloudiness > 0:
        # Clouds on a virtual dome, a function of the direction only.
        inv = 1.0 / np.maximum(-dyr + 0.06, 0.02)
        cu = dxr * inv * 0.9
        cv = inv * 0.9
        n = fbm(cu, cv, scene.seed + 11, octaves=3)
        c = np.clip((n - (1.0 - scene.cloudiness)) * 3.0, 0.0, 1.0)[..., None]
        rgb = rgb * (1.0 - 0.8 * c) + colors.rgb(236, 238, 242) * 0.8 * c
    return rgb


def _shade_sidewalks(scene, X, Z, fine, rgb, lab):
    """Paints the kerbs, grass-strip kerbs and tiled sidewalks of both sides into rgb, lab."""
    for side, edge, strip, walk in ((-1, scene.road_l, scene.strip[0], scene.walk[0]),
                                    (1, scene.road_r, scene.strip[1], scene.walk[1])):
        out = (X - edge) * side  # distance outward from the road edge
        kerb = (out >= 0) & (out < 0.2)
        walk_in = (out >= 0.2 + strip) & (out < 0.2 + strip + walk)
        if strip > 0:
            # A second kerb between the grass strip and the sidewalk.
            kerb2 = (out >= 0.2 + strip) & (out < 0.3 + strip)
        else:
            kerb2 = np.zeros_like(kerb)
        lab[kerb | walk_in] = SIDEWALK
        tx = np.floor(X[walk_in] / scene.tile)
        tz = np.floor(Z[walk_in] / scene.tile)
        tv = hash01(scene.seed + 103 + side, tx, tz) - 0.5
        fx = X[walk_in] / scene.tile - tx
        fz = Z[walk_in] / scene.tile - tz
        grout = (np.minimum(fx, fz) < 0.05 / scene.tile)
        c = scene.walk_color + (tv * 16 + fine[walk_in] * 8 - grout * 14)[:, None]
        rgb[walk_in] = c
        kc = colors.rgb(168, 166, 160) + (fine[kerb | kerb2] * 10)[:, None]
        rgb[kerb | kerb2] = kc


def _road_markings(scene, Xr, Zr):
    """``(mask, colour [N, 3])`` of the lane markings, crosswalks and stop lines at road
    points (Xr, Zr)."""
    white = colors.rgb(208, 208, 200)
    yellow = colors.rgb(214, 176, 62)
    lw = 0.17  # marking width (metres)
    # Edge lines.
    edge = (np.abs(Xr - scene.road_l - 0.3) < lw / 2) | (np.abs(Xr - scene.road_r + 0.3) < lw / 2)
    mark_color = np.tile(white, (Xr.shape[0], 1))
    # Centre line between the two directions.
    xc = -scene.lane_w / 2.0
    if scene.center_line == "yellow_double":
        centre = (np.abs(Xr - xc - 0.16) < lw / 2) | (np.abs(Xr - xc + 0.16) < lw / 2)
        mark_color[centre] = yellow
    elif scene.center_line == "white_solid":
        centre = np.abs(Xr - xc) < lw / 2
    else:
        centre = (np.abs(Xr - xc) < lw / 2) & (np.mod(Zr, 9.0) < 3.0)
    # Dashed separators between lanes of the same direction.
    sep = np.zeros(Xr.shape, bool)
    for k in range(1, scene.lanes_r):
        sep |= (np.abs(Xr - (k - 0.5) * scene.lane_w) < lw / 2) & (np.mod(Zr + 1.3, 9.0) < 3.0)
    for k in range(1, scene.lanes_l):
        sep |= (np.abs(Xr + (k + 0.5) * scene.lane_w) < lw / 2) & (np.mod(Zr + 4.1, 9.0) < 3.0)
    mark = edge | centre | sep
    # Crosswalks: stripes along Z, 4 m long, 0.5 m wide, period 1 m across X.
    for zc in scene.crosswalks:
        cw = (Zr >= zc) & (Zr < zc + 4.0) & (np.mod(Xr, 1.0) < 0.5) & \
            (Xr > scene.road_l + 0.5) & (Xr < scene.road_r - 0.5)
        mark |= cw
        mark_color[cw] = white
        # Stop line in front of the crosswalk for our direction.
        stop = (Zr >= zc - 1.2) & (Zr < zc - 0.8) & (Xr > xc) & (Xr < scene.road_r - 0.3)
        mark |= stop
        mark_color[stop] = white
    return mark, mark_color


def _shade_road(scene, Xr, Zr, fine, coarse):
    """Colours of the road at points (Xr, Zr): asphalt and markings (`fine`, `coarse`: the
    ground's noise there)."""
    s = scene.seed
    # Asphalt: grain at 30 cm and 60 cm, metre-scale patches and slow wear, so that its motion
    # is visible (renderer 4: the 30 cm grain is new and the 60 cm one twice as strong).
    patches = noise(Xr * 0.8, Zr * 0.8, s + 104) - 0.5
    stains = noise(Xr * 1.7, Zr * 1.7, s + 105) - 0.5
    grain = noise(Xr * 3.3, Zr * 3.3, s + 106) - 0.5
    c = scene.road_color + (fine * 5 + grain * 40 + stains * 56 + patches * 24
                            + coarse * 14)[:, None]
    mark, mark_color = _road_markings(scene, Xr, Zr)
    wear = (fine * 18)[:, None]
    c[mark] = mark_color[mark] + wear[mark]
    return c


def shade_ground(scene, X, Z):
    """Texture and label of the ground plane at world (X, Z): terrain, sidewalks, road."""
    n = X.shape[0]
    rgb = np.empty((n, 3))
    lab = np.full(n, TERRAIN, np.uint8)
    s = scene.seed
    fine = noise(X * 2.5, Z * 2.5, s + 101) - 0.5
    coarse = noise(X * 0.3, Z * 0.3, s + 102) - 0.5

    # Terrain / grass everywhere by default.
    g = scene.grass_color + (fine * 26 + coarse * 30)[:, None] * colors.rgb(0.8, 1.0, 0.5)
    rgb[:] = g
    _shade_sidewalks(scene, X, Z, fine, rgb, lab)
    road = (X >= scene.road_l) & (X <= scene.road_r)
    lab[road] = ROAD
    rgb[road] = _shade_road(scene, X[road], Z[road], fine[road], coarse[road])
    return rgb, lab


def facade_presence(fac, idx, Z, hgt):
    """Whether the facade plane is solid at (Z, hgt); idx = segment indices."""
    kind = fac.kind[idx]
    height = fac.height[idx]
    solid = (hgt >= 0) & (kind != FACADE_GAP)
    top = height.copy()
    hedge = kind == FACADE_HEDGE
    if np.any(hedge):
        top[hedge] += 0.5 * (noise(Z[hedge] * 1.3, 0.0, 77) - 0.5)
    solid &= hgt <= top
    fence = kind == FACADE_FENCE
    if np.any(fence):
        zf = Z[fence]
        hf = hgt[fence]
        bars = np.mod(zf, 0.3) < 0.12
        rails = (np.abs(hf - 0.25) < 0.06) | (hf > height[fence] - 0.12)
        solid[fence] &= bars | rails
    return solid


def _shade_buildings(scene, fac, zb, hb, ib):
    """Colours of building hits at (zb, hb) of segments ib: wall grain, window grid, shop
    fronts and doors on the ground floor, cornice and floor bands."""
    s = scene.seed
    grain = noise(zb * 2.0, hb * 2.0, s + 201) - 0.5
    blot = noise(zb * 0.35, hb * 0.35, s + 202) - 0.5
    col = fac.color[ib] * (1.0 + 0.10 * grain + 0.16 * blot)[:, None]
    fh = fac.floor_h[ib]
    floor = np.floor(hb / fh)
    fy = hb / fh - floor
    start = fac.start[ib]
    seg_len = fac.start[ib + 1] - start
    period = fac.win_period[ib]
    nwin = np.maximum(np.floor((seg_len - 1.0) / period), 1.0)
    off = start + 0.5 * (seg_len - nwin * period)
    wz = (zb - off) / period
    wi = np.floor(wz)
    fx = wz - wi
    top = fac.height[ib]
    in_cols = (wi >= 0) & (wi < nwin)
    win = in_cols & (floor >= 1) & (np.abs(fx - 0.5) < fac.win_w[ib] / 2) & \
        (np.abs(fy - 0.55) < fac.win_h[ib] / 2) & (hb < top - 1.0)
    # Ground floor: shop fronts (wide windows) or doors.
    shop = fac.shop[ib]
    gwin = in_cols & (floor == 0) & shop & (np.abs(fx - 0.5) < 0.42) & (fy > 0.12) & (fy < 0.78)
    door = in_cols & (floor == 0) & ~shop & (np.abs(fx - 0.5) < 0.18) & (fy < 0.7) & \
        (np.mod(wi, 3) == 1)
    # Horizontal cornice at the top and a darker band between floors.
    cornice = hb > top - 0.45
    band = (fy < 0.06) & (floor >= 1)
    col[cornice] *= 0.72
    col[band] *= 0.88
    # Shop ground floor in a different tone.
    col[(floor == 0) & shop & ~gwin] *= 0.8
    lit = hash01(fac.seed[ib], wi, floor)
    glass = fac.window_color[ib] * (0.75 + 0.5 * fy)[:, None]
    lamp = colors.rgb(232, 196, 120) * (0.8 + 0.2 * fy)[:, None]
    glass = np.where((lit > 0.9)[:, None], lamp, glass)
    glass = glass * (0.85 + 0.3 * lit)[:, None]
    wmask = win | gwin
    col[wmask] = glass[wmask]
    col[door] = colors.rgb(70, 52, 40) * (0.8 + 0.3 * fy[door])[:, None]
    return col


def _shade_walls(scene, fac, zw, hw, iw):
    """Colours of wall hits: stone blocks with grout."""
    bs = fac.floor_h[iw]
    row = np.floor(hw / (bs * 0.5))
    zz = zw / bs + 0.5 * np.mod(row, 2)
    col_i = np.floor(zz)
    grout = (np.mod(hw, bs * 0.5) < 0.04) | (zz - col_i < 0.04 / bs)
    v = hash01(fac.seed[iw], col_i, row) - 0.5
    grain = noise(zw * 3.0, hw * 3.0, scene.seed + 203) - 0.5
    col = fac.color[iw] * (1.0 + 0.12 * v + 0.08 * grain)[:, None]
    col[grout] *= 0.7
    return col


def _shade_fences(scene, fac, zf, hf, i_f):  # pylint: disable=unused-argument
    """Colours of fence hits (only the solid bars and rails reach here)."""
    shade = 0.75 + 0.5 * np.mod(zf, 0.3) / 0.12
    return fac.color[i_f] * np.clip(shade, 0.7, 1.2)[:, None]


def _shade_hedges(scene, fac, zh, hh, ih):
    """Colours of hedge hits: leaves and clumps, darker near the ground."""
    leaf = noise(zh * 3.5, hh * 3.5, scene.seed + 204) - 0.5
    clump = noise(zh * 0.9, hh * 0.9, scene.seed + 205) - 0.5
    col = fac.color[ih] * (1.0 + 0.45 * leaf + 0.35 * clump)[:, None]
    col *= (0.75 + 0.25 * np.clip(hh / 2.0, 0, 1))[:, None]
    return col


_FACADE_SHADERS = ((FACADE_BUILDING, BUILDING, _shade_buildings), (FACADE_WALL, WALL, _shade_walls),
                   (FACADE_FENCE, FENCE, _shade_fences), (FACADE_HEDGE, VEGETATION, _shade_hedges))


def shade_facade(scene, fac, idx, Z, hgt):
    """Texture and label of facade segments at (Z, hgt); idx = segment indices."""
    n = Z.shape[0]
    rgb = np.empty((n, 3))
    lab = np.empty(n, np.uint8)
    kind = fac.kind[idx]
    for code, label, shade in _FACADE_SHADERS:
        m = kind == code
        if np.any(m):
            lab[m] = label
            rgb[m] = shade(scene, fac, Z[m], hgt[m], idx[m])
    return rgb, lab
