"""Drawing a random street scene: camera, street layout, buildings, furniture and road users.

Every random draw of a scene comes from one ``np.random.Generator``, in a
fixed order, so a scene depends only on its generator's seed. Do not reorder
draws: that changes every dataset (bump ``RENDERER_VERSION`` if you must).
"""

import dataclasses

import numpy as np

from seg2vid_tf.data.synthetic.camera import (CURVATURES, MEAN_CAMERA_SPEED, STRAIGHT_FRACTION,
                                              camera_path, camera_speeds, draw_camera_speed)
from seg2vid_tf.data.synthetic.colors import (BUILDING_COLORS, CAR_COLORS, CLOTHES, HAIR, SKIN,
                                              pick)
from seg2vid_tf.data.synthetic.scene import (FACADE_BUILDING, FACADE_FENCE, FACADE_GAP,
                                             FACADE_HEDGE, FACADE_WALL, Facade, Scene, Sprite)
from seg2vid_tf.data.synthetic.sprites import (sprite_car, sprite_cyclist, sprite_person,
                                               sprite_pole, sprite_sign, sprite_traffic_light,
                                               sprite_tree)


def _make_facade(rng, side, dist, z_end):
    """Draws the segments of the facade plane ``X = side * dist`` from Z = -60 m to past `z_end`."""
    starts, kinds, heights, colors, wcols = [], [], [], [], []
    floor_h, period, ww, wh, shop, seeds = [], [], [], [], [], []
    z = -60.0
    low_run = 0
    while z < z_end:
        r = rng.random()
        if r < 0.74 or low_run >= 2:
            kind, length = FACADE_BUILDING, rng.uniform(8, 28)
            height = rng.uniform(7, 30)
            color = pick(rng, BUILDING_COLORS, 14)
        elif r < 0.82:
            kind, length = FACADE_HEDGE, rng.uniform(5, 16)
            height = rng.uniform(1.0, 2.4)
            color = np.array([60, 100, 46]) * rng.uniform(0.8, 1.2, 3)
        elif r < 0.88:
            kind, length = FACADE_WALL, rng.uniform(5, 14)
            height = rng.uniform(1.4, 3.0)
            color = pick(rng, [(160, 156, 150), (176, 150, 120), (120, 116, 110)], 10)
        elif r < 0.94:
            kind, length = FACADE_FENCE, rng.uniform(5, 14)
            height = rng.uniform(1.2, 2.0)
            color = pick(rng, [(40, 70, 50), (90, 70, 50), (70, 72, 76)], 8)
        else:
            kind, length = FACADE_GAP, rng.uniform(4, 12)
            height = 0.0
            color = np.zeros(3)
        low_run = 0 if kind == FACADE_BUILDING else low_run + 1
        starts.append(z)
        kinds.append(kind)
        heights.append(height)
        colors.append(color)
        wcols.append(pick(rng, [(50, 62, 78), (70, 84, 96), (40, 46, 52), (90, 110, 126)], 6))
        floor_h.append(rng.uniform(3.0, 3.8) if kind == FACADE_BUILDING else rng.uniform(0.5, 0.9))
        period.append(rng.uniform(2.4, 4.2))
        ww.append(rng.uniform(0.38, 0.62))
        wh.append(rng.uniform(0.45, 0.65))
        shop.append(rng.random() < 0.5)
        seeds.append(int(rng.integers(1 << 30)))
        z += length
    # A last, very long building closes the street at infinity.
    starts += [z, 1e7]
    kinds += [FACADE_BUILDING, FACADE_GAP]
    heights += [rng.uniform(10, 30), 0.0]
    colors += [pick(rng, BUILDING_COLORS, 14), np.zeros(3)]
    wcols += [np.array([60, 70, 80.0])] * 2
    floor_h += [3.4, 3.4]
    period += [3.0, 3.0]
    ww += [0.5, 0.5]
    wh += [0.55, 0.55]
    shop += [False, False]
    seeds += [int(rng.integers(1 << 30)), 0]
    a = np.asarray
    return Facade(side=side, dist=dist, start=a(starts, np.float64), kind=a(kinds, np.int64),
                  height=a(heights, np.float64), color=a(colors, np.float64),
                  window_color=a(wcols, np.float64), floor_h=a(floor_h, np.float64),
                  win_period=a(period, np.float64), win_w=a(ww, np.float64),
                  win_h=a(wh, np.float64), shop=a(shop, bool), seed=a(seeds, np.int64))


def _person_params(rng, back):
    """Draws a person's height and colours (`back`: seen from behind)."""
    p = dict(h=rng.uniform(1.55, 1.92), shirt=pick(rng, CLOTHES, 14),
             trousers=pick(rng, CLOTHES, 10) * 0.7, skin=pick(rng, SKIN, 8),
             hair=pick(rng, HAIR, 8), back=bool(back))
    if rng.random() < 0.3:
        p["bag"] = pick(rng, CLOTHES, 10) * 0.6
    return p


def _add_vehicle(sprites, rng, x, z, vx, vz, front, allow_big=True, tram=False):
    """Appends a car, truck or bus (a tram if `tram`; cars only unless `allow_big`)."""
    r = rng.random() if allow_big else 1.0
    if tram:
        vehicle, w, h = "tram", rng.uniform(2.6, 2.7), rng.uniform(3.3, 3.6)
        color = pick(rng, [(230, 226, 210), (200, 40, 40), (40, 120, 170), (240, 200, 40)], 8)
    elif r < 0.08:
        vehicle, w, h = "bus", rng.uniform(2.45, 2.55), rng.uniform(3.0, 3.3)
        color = pick(rng, [(200, 40, 40), (230, 200, 40), (40, 90, 170), (236, 236, 230)], 10)
    elif r < 0.18:
        vehicle, w, h = "truck", rng.uniform(2.3, 2.5), rng.uniform(2.8, 3.6)
        color = pick(rng, [(230, 230, 226), (60, 80, 130), (150, 40, 30), (120, 124, 128)], 10)
    else:
        vehicle, w, h = "car", rng.uniform(1.65, 1.9), rng.uniform(1.35, 1.6)
        color = pick(rng, CAR_COLORS, 12)
    p = dict(w=w, h=h, vehicle=vehicle, color=color, front=bool(front))
    sprites.append(Sprite("vehicle", x, z, vx, vz, -w / 2, w / 2, h, sprite_car, p))


@dataclasses.dataclass(frozen=True)
class _Street:
    """The street's cross-section: lanes, road edges, grass strips and sidewalks."""

    lane_w: float
    lanes_l: int
    lanes_r: int
    road_l: float
    road_r: float
    strip: tuple  # (left, right) grass-strip widths (0 = none).
    walk: tuple   # (left, right) sidewalk widths.

    @property
    def dist_l(self):
        """Distance of the left facade plane from the camera's path."""
        return -self.road_l + 0.2 + self.strip[0] + self.walk[0]

    @property
    def dist_r(self):
        """Distance of the right facade plane from the camera's path."""
        return self.road_r + 0.2 + self.strip[1] + self.walk[1]

    @property
    def edges(self):
        """Per side: ``(side, road edge X, grass strip, sidewalk, facade distance)``."""
        return ((-1, self.road_l, self.strip[0], self.walk[0], self.dist_l),
                (1, self.road_r, self.strip[1], self.walk[1], self.dist_r))


def _draw_street(rng):
    """Draws the lanes (one or two each way, 3.0-3.6 m), grass strips and sidewalks."""
    lane_w = rng.uniform(3.0, 3.6)
    lanes_r = int(rng.integers(1, 3))
    lanes_l = int(rng.integers(1, 3))
    road_r = (lanes_r - 0.5) * lane_w
    road_l = -(lanes_l + 0.5) * lane_w
    strip = tuple(float(rng.uniform(1.0, 2.2)) if rng.random() < 0.35 else 0.0 for _ in range(2))
    walk = tuple(float(rng.uniform(2.0, 4.5)) for _ in range(2))
    return _Street(lane_w=lane_w, lanes_l=lanes_l, lanes_r=lanes_r, road_l=road_l, road_r=road_r,
                   strip=strip, walk=walk)


def _add_street_lights(sprites, rng, street, z_far):
    """Street lights and poles along the kerbs."""
    for side, edge, st, wk, dist in street.edges:
        spacing = rng.uniform(14, 28)
        z = rng.uniform(-spacing, spacing)
        x = edge + side * (0.2 + st / 2 if st > 0 else 0.55)
        while z < z_far:
            arm = -side if rng.random() < 0.7 else 0
            p = dict(w=rng.uniform(0.14, 0.22), h=rng.uniform(5.5, 8.5), arm=arm,
                     arm_len=rng.uniform(1.2, 2.0),
                     color=pick(rng, [(120, 122, 126), (70, 72, 70), (150, 150, 146)], 8))
            umin, umax = (-p["arm_len"] - 0.3, 0.2) if arm < 0 else (-0.2, p["arm_len"] + 0.3)
            sprites.append(Sprite("pole", x, z, 0.0, 0.0, umin, umax, p["h"] + 0.05,
                                  sprite_pole, p))
            z += spacing * rng.uniform(0.9, 1.1)


def _tree_params(rng, rx, ry, th, crown, trunk_widths, green):
    """`sprite_tree` parameters: a crown of radii (rx, ry) whose centre is `crown * ry` above
    the trunk height `th`, a trunk width drawn from `trunk_widths`, a shade of `green`."""
    return dict(seed=int(rng.integers(1 << 30)), rx=rx, ry=ry, ac=th + ry * crown,
                tw=rng.uniform(*trunk_widths), th=th + ry * 0.5,
                color=np.array(green) * rng.uniform(0.75, 1.25, 3))


def _add_kerb_trees_and_bushes(sprites, rng, street, z_far):
    """Trees along the kerbs (in the grass strip if any) and bushes in front of the facades."""
    for side, edge, st, wk, dist in street.edges:
        if rng.random() < 0.7:
            spacing = rng.uniform(7, 14)
            z = rng.uniform(-spacing, spacing)
            x = edge + side * (0.2 + st / 2 if st > 0 else 1.0)
            while z < z_far:
                th = rng.uniform(1.8, 3.0)
                rx = rng.uniform(1.3, 2.8)
                ry = rng.uniform(1.4, 3.0)
                p = _tree_params(rng, rx, ry, th, 0.75, (0.22, 0.4), (58, 98, 40))
                sprites.append(Sprite("tree", x + rng.uniform(-0.2, 0.2), z, 0.0, 0.0,
                                      -rx * 1.4, rx * 1.4, th + ry * 2.2, sprite_tree, p))
                z += spacing * rng.uniform(0.8, 1.25)
        if rng.random() < 0.45:  # Bushes in front of the facade.
            for _ in range(int(rng.integers(2, 7))):
                rx = rng.uniform(0.6, 1.4)
                ry = rng.uniform(0.5, 1.0)
                p = dict(seed=int(rng.integers(1 << 30)), rx=rx, ry=ry, ac=ry * 0.7,
                         tw=0.0, th=0.0, color=np.array([52, 92, 44]) * rng.uniform(0.8, 1.2, 3))
                sprites.append(Sprite("bush", side * (dist - 0.7), rng.uniform(4, z_far * 0.5),
                                      0.0, 0.0, -rx * 1.4, rx * 1.4, ry * 2.2, sprite_tree, p))


def _add_trees_behind_facades(sprites, rng, facades, z_far):
    """Trees behind the facade gaps and low segments."""
    for fac in facades:
        for i in range(fac.kind.shape[0] - 1):  # the last entry is a sentinel
            if fac.kind[i] == FACADE_BUILDING or fac.start[i] > z_far:
                continue
            for _ in range(int(rng.integers(1, 4))):
                rx = rng.uniform(1.8, 3.5)
                ry = rng.uniform(2.0, 4.0)
                th = rng.uniform(2.0, 4.0)
                p = _tree_params(rng, rx, ry, th, 0.8, (0.3, 0.5), (50, 90, 38))
                z = rng.uniform(fac.start[i], fac.start[i + 1])
                x = fac.side * (fac.dist + rng.uniform(2.0, 8.0))
                sprites.append(Sprite("tree", x, z, 0.0, 0.0, -rx * 1.4, rx * 1.4,
                                      th + ry * 2.3, sprite_tree, p))


def _add_signs_and_traffic_lights(sprites, rng, street, z_end):
    """Traffic signs at the kerbs and, in half the scenes, a pair of traffic lights."""
    for _ in range(int(rng.integers(2, 6))):
        side, edge = street.edges[int(rng.integers(2))][:2]
        shape = ("circle", "triangle", "square")[int(rng.integers(3))]
        r = rng.uniform(0.3, 0.42)
        p = dict(h=rng.uniform(2.1, 2.7), r=r, shape=shape, bar=bool(rng.random() < 0.5),
                 bar_red=bool(rng.random() < 0.5),
                 plate=pick(rng, [(30, 80, 170), (30, 110, 60), (220, 190, 30)], 6))
        sprites.append(Sprite("sign", edge + side * 0.45, rng.uniform(5, z_end + 70), 0.0, 0.0,
                              -r - 0.05, r + 0.05, p["h"] + 2 * r + 0.05, sprite_sign, p))
    if rng.random() < 0.5:
        zl = rng.uniform(15, z_end + 60)
        for side, edge in ((-1, street.road_l), (1, street.road_r)):
            p = dict(h=rng.uniform(2.6, 3.2), state=int(rng.integers(3)))
            sprites.append(Sprite("traffic_light", edge + side * 0.4, zl + rng.uniform(-0.5, 0.5),
                                  0.0, 0.0, -0.25, 0.25, p["h"] + 1.0, sprite_traffic_light, p))


def _add_parked_cars(sprites, rng, street, z_end):
    """Parked cars along the kerbs (they occlude poles, trees and pedestrians).

    Returns:
        The sides (-1 left, 1 right) with parked cars.
    """
    parked = []
    for side, edge in ((-1, street.road_l), (1, street.road_r)):
        if rng.random() < 0.6:
            parked.append(side)
            z = rng.uniform(2, 8)
            while z < z_end + 70:
                if rng.random() < 0.75:
                    _add_vehicle(sprites, rng, edge - side * 1.15, z, 0.0, 0.0,
                                 front=side < 0, allow_big=False)
                z += rng.uniform(5.2, 9.0)
    return parked


def _add_traffic(sprites, rng, street, speed, parked):
    """Moving vehicles both ways, sometimes a tram, sometimes a cyclist; `speed`: the camera's."""
    lane_w = street.lane_w
    # Traffic in our direction (ahead of us and overtaking from behind).
    for _ in range(int(rng.integers(1, 4))):
        lane = int(rng.integers(street.lanes_r))
        x = lane * lane_w + rng.uniform(-0.3, 0.3)
        z = rng.uniform(12, 70)
        _add_vehicle(sprites, rng, x, z, rng.uniform(-0.01, 0.01), speed * rng.uniform(0.55, 1.3),
                     front=False)
    if street.lanes_r > 1 and rng.random() < 0.6:
        _add_vehicle(sprites, rng, lane_w + rng.uniform(-0.2, 0.2), rng.uniform(-4, 2), 0.0,
                     speed + rng.uniform(0.4, 0.9), front=False, allow_big=False)
    # Oncoming traffic.
    for _ in range(int(rng.integers(1, 5))):
        lane = int(rng.integers(street.lanes_l))
        x = -(lane + 1) * lane_w + rng.uniform(-0.3, 0.3)
        _add_vehicle(sprites, rng, x, rng.uniform(6, 110), 0.0, -rng.uniform(0.3, 1.2), front=True)
    # Occasionally an oncoming tram (Cityscapes "train") on the centre line.
    if rng.random() < 0.12:
        _add_vehicle(sprites, rng, -lane_w * 1.05, rng.uniform(15, 90), 0.0,
                     -rng.uniform(0.2, 0.6), front=True, tram=True)
    # Cyclists near the right road edge.
    if rng.random() < 0.4:
        moto = bool(rng.random() < 0.3)
        rider = _person_params(rng, back=True)
        p = dict(moto=moto, rider=rider, bike=pick(rng, CLOTHES, 10))
        x = street.road_r - (2.4 if 1 in parked else 0.9)
        z = rng.uniform(6, 40)
        vz = rng.uniform(0.15, 0.45) if not moto else speed * rng.uniform(0.7, 1.2)
        sprites.append(Sprite("cyclist", x, z, 0.0, vz, -0.35, 0.35, 1.95, sprite_cyclist, p))


def _add_pedestrians(sprites, rng, street, crosswalks):
    """Pedestrians on the sidewalks, sometimes a few crossing the road (at the crosswalk if any)."""
    n_ped = int(rng.integers(4, 13))
    for k in range(n_ped):
        side, edge, st, wk, dist = street.edges[int(rng.integers(2))]
        x = edge + side * rng.uniform(0.5 + st, 0.2 + st + wk - 0.3)
        z = rng.uniform(3, 45) if k < n_ped - 2 else rng.uniform(3, 15)
        vz = rng.choice([-1.0, 1.0]) * rng.uniform(0.03, 0.1) if rng.random() < 0.8 else 0.0
        p = _person_params(rng, back=vz > 0)
        sprites.append(Sprite("person", x, z, 0.0, vz, -0.35, 0.35, p["h"] + 0.05,
                              sprite_person, p))
    if rng.random() < 0.3:
        zc = crosswalks[0] + 2.0 if crosswalks.size else rng.uniform(10, 40)
        for _ in range(int(rng.integers(1, 3))):
            p = _person_params(rng, back=False)
            vx = rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 0.1)
            sprites.append(Sprite("person", rng.uniform(street.road_l, street.road_r),
                                  zc + rng.uniform(-1.5, 1.5), vx, 0.0, -0.35, 0.35,
                                  p["h"] + 0.05, sprite_person, p))


def _draw_sprites(rng, street, facades, crosswalks, z_end, speed):
    """Street furniture, vegetation and road users (`speed`: the camera's mean speed)."""
    sprites = []
    z_far = z_end + 140.0
    _add_street_lights(sprites, rng, street, z_far)
    _add_kerb_trees_and_bushes(sprites, rng, street, z_far)
    _add_trees_behind_facades(sprites, rng, facades, z_far)
    _add_signs_and_traffic_lights(sprites, rng, street, z_end)
    parked = _add_parked_cars(sprites, rng, street, z_end)
    _add_traffic(sprites, rng, street, speed, parked)
    _add_pedestrians(sprites, rng, street, crosswalks)
    return sprites


def _draw_sky(rng):
    """``(clear, top colour, horizon colour)``: a blue sky (60%) or an overcast grey one."""
    sky_clear = rng.random() < 0.6
    if sky_clear:
        sky_top = np.array([60, 110, 190]) * rng.uniform(0.85, 1.1, 3)
        sky_horizon = np.array([196, 212, 230]) * rng.uniform(0.92, 1.05, 3)
    else:
        grey = rng.uniform(170, 215)
        sky_top = np.array([grey - 30, grey - 22, grey - 12])
        sky_horizon = np.array([grey + 18, grey + 20, grey + 24])
    return sky_clear, sky_top, sky_horizon


def sample_scene(rng, num_frames, height, width, motion_scale=1.0, speed_variation=1.0):
    """Draws a random street scene (camera, layout, objects).

    ``motion_scale`` multiplies every velocity (camera and objects) after all
    random draws, like a higher (< 1) or lower (> 1) frame rate.
    ``speed_variation`` scales how far each sequence's camera speed (and its
    acceleration) lies from the mean speed, also after all draws: 1 keeps the
    drawn speeds (0.02 to 1.4 m per frame, see `draw_camera_speed`), 0 drives
    every sequence at the mean. The scene layout depends on neither.

    Args:
        rng: The ``np.random.Generator`` every draw comes from (consumed).
        num_frames: Number of frames F.
        height: Frame height in pixels.
        width: Frame width in pixels.
        motion_scale: Multiplies all velocities.
        speed_variation: Spread of the camera speed around the mean, in [0, 1].

    Returns:
        A :class:`Scene`.
    """
    seed = int(rng.integers(1 << 30))
    f = width * rng.uniform(0.68, 0.86)
    cx = (width - 1) / 2.0 + rng.uniform(-0.04, 0.04) * width
    cy = height * rng.uniform(0.38, 0.47)
    cam_h = rng.uniform(1.25, 1.65)
    speed0 = draw_camera_speed(rng.random())
    accel = rng.uniform(-0.04, 0.04)
    speeds = camera_speeds(speed0, accel, num_frames)
    z_end = float(np.sum(speeds[:num_frames - 1]))

    street = _draw_street(rng)
    facades = (_make_facade(rng, -1, street.dist_l, z_end + 1200.0),
               _make_facade(rng, 1, street.dist_r, z_end + 1200.0))
    crosswalks = np.array([rng.uniform(12, 60)]) if rng.random() < 0.45 else np.zeros(0)
    sprites = _draw_sprites(rng, street, facades, crosswalks, z_end, float(speeds.mean()))
    sky_clear, sky_top, sky_horizon = _draw_sky(rng)
    hood_rows = int(round(height * rng.uniform(0.06, 0.1))) if rng.random() < 0.3 else 0
    curvature = 0.0
    if rng.random() >= STRAIGHT_FRACTION:
        curvature = float(rng.choice([-1.0, 1.0]) * rng.uniform(*CURVATURES))

    if speed_variation != 1.0:
        # The layout above reaches far beyond the camera's path at any of these speeds.
        speeds = camera_speeds(MEAN_CAMERA_SPEED + speed_variation * (speed0 - MEAN_CAMERA_SPEED),
                               speed_variation * accel, num_frames)
    if motion_scale != 1.0:
        speeds = speeds * motion_scale
        sprites = [dataclasses.replace(sprite, vx=sprite.vx * motion_scale,
                                       vz=sprite.vz * motion_scale) for sprite in sprites]
    cam_x, cam_z, heading = camera_path(speeds, curvature, num_frames)
    yaw_rate = float(np.mean(np.diff(heading))) if num_frames > 1 else 0.0
    # The remaining draws happen in the order of these keyword arguments.
    return Scene(
        height=height, width=width, num_frames=num_frames, f=f, cx=cx, cy=cy, cam_h=cam_h,
        cam_z=cam_z, cam_x=cam_x, heading=heading, yaw_rate=yaw_rate, seed=seed,
        gain=rng.uniform(0.88, 1.08) * rng.uniform(0.96, 1.04, 3),
        road_l=street.road_l, road_r=street.road_r, lane_w=street.lane_w,
        lanes_l=street.lanes_l, lanes_r=street.lanes_r, strip=street.strip, walk=street.walk,
        road_color=np.full(3, rng.uniform(70, 105)) + rng.uniform(-4, 4, 3),
        walk_color=pick(rng, [(150, 146, 140), (170, 160, 150), (130, 128, 126),
                              (160, 120, 110)], 8),
        grass_color=np.array([96, 124, 58]) * rng.uniform(0.8, 1.15, 3),
        tile=float(rng.uniform(0.5, 1.0)),
        center_line=("yellow_double", "white_dashed", "white_solid")[int(rng.integers(3))],
        crosswalks=crosswalks, facades=facades, sprites=sprites, sky_top=sky_top,
        sky_horizon=sky_horizon, cloudiness=float(rng.uniform(0.0, 0.5)) if sky_clear else 0.0,
        hood_rows=hood_rows, hood_color=np.array([38, 40, 46]) * rng.uniform(0.8, 1.6))
