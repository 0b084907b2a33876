"""The `generate` command: label PNGs, first frames, GIF output, end to end."""

import logging
import os
import struct
import subprocess
import sys
import zlib

import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageSequence

from seg2vid_tf import generate
from seg2vid_tf.command_flags import FlagError
from seg2vid_tf.models import rollout
from seg2vid_tf.segmentation import frames as frames_lib
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.testing.tiny_pipeline import SIZE, street_label_map

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_label_png(path, ids, mode="L"):
    Image.fromarray(np.asarray(ids, np.uint8), mode=mode).save(path)
    return str(path)


def gif_frames(path, fps=4):
    """The GIF's frames, one per `1 / fps` of its animation: Pillow writes identical
    consecutive frames as one frame of their summed duration (an untrained model's frames
    can be equal in uint8), so each stored frame is repeated for the time it shows."""
    frames = []
    with Image.open(path) as gif:
        for frame in ImageSequence.Iterator(gif):
            repeats = round(frame.info.get("duration", 1000.0 / fps) * fps / 1000.0)
            frames += [np.asarray(frame.convert("RGB"))] * max(repeats, 1)
    return np.stack(frames)


# --------------------------------------------------------------------------- label PNGs
def test_train_id_png_reads_with_ignore_as_void(tmp_path):
    ids = street_label_map()[0]
    ids[0, :3] = 255
    train_ids, cityscapes_ids = generate.read_label_map(write_label_png(tmp_path / "a.png", ids))
    expected = ids.copy()
    expected[0, :3] = 19
    np.testing.assert_array_equal(train_ids, expected)
    assert cityscapes_ids is None


def test_cityscapes_label_ids_are_mapped(tmp_path):
    ids = np.full((4, 6), 7)  # road
    ids[0] = 23  # sky
    ids[1, :2] = 26  # car
    ids[3, -1] = 1  # ego vehicle, ignored -> void
    path = write_label_png(tmp_path / "labelIds.png", ids)
    train_ids, cityscapes_ids = generate.read_label_map(path, "cityscapes")
    expected = np.zeros((4, 6), np.int32)
    expected[0], expected[1, :2], expected[3, -1] = 10, 13, 19
    np.testing.assert_array_equal(train_ids, expected)
    np.testing.assert_array_equal(cityscapes_ids, ids)


def test_palette_png_is_read_by_index(tmp_path):
    ids = street_label_map(size=16)[0]
    image = Image.fromarray(ids.astype(np.uint8), mode="P")
    image.putpalette(list(np.random.default_rng(0).integers(0, 256, 768)))
    image.save(tmp_path / "p.png")
    np.testing.assert_array_equal(generate.read_label_map(str(tmp_path / "p.png"))[0], ids)


def test_wrong_size_is_resized_nearest_with_a_notice(tmp_path, caplog):
    ids = np.zeros((64, 64), np.uint8)
    ids[:, 32:] = 13
    path = write_label_png(tmp_path / "small.png", ids)
    with caplog.at_level(logging.WARNING):
        train_ids, _ = generate.read_label_map(path, height=128, width=256)
    assert train_ids.shape == (128, 256)
    assert set(np.unique(train_ids)) == {0, 13}  # nearest neighbour: no new ids
    assert (train_ids[:, :128] == 0).all() and (train_ids[:, 128:] == 13).all()
    assert "resizing it to the model's 128x256" in caplog.text


@pytest.mark.parametrize("label_ids, values, message", [
    ("train", [20, 40], r"ids \[20, 40\] outside the train ids 0\.\.19"),
    ("cityscapes", [34, 200], r"ids \[34, 200\] outside the Cityscapes label ids 0\.\.33"),
])
def test_out_of_range_ids_name_the_file_and_the_ids(tmp_path, label_ids, values, message):
    ids = np.zeros((8, 8), np.uint8)
    ids[0, : len(values)] = values
    path = write_label_png(tmp_path / "bad_ids.png", ids)
    with pytest.raises(ValueError, match=message) as error:
        generate.read_label_map(path, label_ids)
    assert "bad_ids.png" in str(error.value)


def test_unusable_files_give_clear_errors(tmp_path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "labels.jpg", format="JPEG")
    os.rename(tmp_path / "labels.jpg", tmp_path / "jpeg_named.png")
    with pytest.raises(ValueError, match="jpeg_named.png .*is not a PNG file"):
        generate.read_label_map(str(tmp_path / "jpeg_named.png"))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="rgb.png .*mode 'RGB'.*8-bit single-channel"):
        generate.read_label_map(str(tmp_path / "rgb.png"))
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(tmp_path / "sixteen.png")
    with pytest.raises(ValueError, match="sixteen.png .*mode 'I;16'"):
        generate.read_label_map(str(tmp_path / "sixteen.png"))
    (tmp_path / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    with pytest.raises(ValueError, match="truncated.png .*not a readable PNG"):
        generate.read_label_map(str(tmp_path / "truncated.png"))
    with pytest.raises(FileNotFoundError, match="--label_map"):
        generate.read_label_map(str(tmp_path / "missing.png"))



def _png_claiming_size(path, width, height):
    """A valid-looking grey PNG whose header claims `width` x `height` pixels."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return str(path)


def test_corrupt_and_hostile_inputs_are_named(tmp_path):
    label = write_label_png(tmp_path / "labels.png", np.arange(64).reshape(8, 8) % 19)
    corrupt_files.corrupt_png_data(label)
    with pytest.raises(ValueError, match=r"labels\.png \(--label_map\) is not a readable PNG .*"
                                         r"expected a complete 8-bit single-channel PNG"):
        generate.read_label_map(label)
    frame = str(tmp_path / "frame.jpg")
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(frame)
    corrupt_files.corrupt_jpeg_header(frame)
    with pytest.raises(ValueError, match=r"frame\.jpg \(--first_frame\) is not a readable image"):
        generate.read_first_frame(frame, 3, 8, 8)
    # A header claiming 900 megapixels (a decompression bomb) is refused, naming the file.
    bomb = _png_claiming_size(tmp_path / "bomb.png", 30000, 30000)
    for read in (lambda: generate.read_label_map(bomb),
                 lambda: generate.read_first_frame(bomb, 3, 8, 8),
                 lambda: frames_lib.read_image(bomb, "image")):
        with pytest.raises(ValueError, match=r"bomb\.png .*not a readable .*exceeds limit"):
            read()

# --------------------------------------------------------------------------- run
def test_run_writes_a_gif_of_all_frames(pipeline, tmp_path):
    path = write_label_png(tmp_path / "labels.png", street_label_map()[0])
    outcome = generate.run(checkpoint_dir=None, output=str(tmp_path / "video.gif"),
                           num_frames=6, seed=2, label_map=path, pipeline=pipeline)
    frames = gif_frames(outcome["paths"][0])
    assert frames.shape == (7, SIZE, 2 * SIZE, 3)  # label colours | frame
    flow_outcome = generate.run(checkpoint_dir=None, output=str(tmp_path / "flow.gif"),
                                num_frames=6, seed=2, label_map=path, pipeline=pipeline,
                                show_flow=True)
    # label colours | frame | flow | forward mask | backward mask | legend
    assert gif_frames(flow_outcome["paths"][0]).shape == (7, SIZE, 6 * SIZE, 3)
    np.testing.assert_array_equal(outcome["result"]["video"], flow_outcome["result"]["video"])
    assert outcome["paths"] == [str(tmp_path / "video.gif"), str(tmp_path / "video.mp4")]
    # The MP4 decodes to the same frames up to H.264's loss: the GIF's panels, 7 of them.
    mp4 = np.stack(imageio.mimread(outcome["paths"][1], memtest=False)).astype(np.float64)
    gif = frames.astype(np.float64)
    assert mp4.shape == gif.shape
    assert np.abs(mp4 - gif).mean() < 8.0  # lossy codec; a shifted or blank frame is > 30


def test_video_format_selects_the_files(pipeline, tmp_path):
    path = write_label_png(tmp_path / "labels.png", street_label_map()[0])
    outcome = generate.run(checkpoint_dir=None, output=str(tmp_path / "only.gif"), num_frames=2,
                           label_map=path, pipeline=pipeline, video_format="mp4")
    assert outcome["paths"] == [str(tmp_path / "only.mp4")]
    assert not (tmp_path / "only.gif").exists()
    with pytest.raises(ValueError, match="--video_format"):
        generate.run(checkpoint_dir=None, output=str(tmp_path / "x.gif"), num_frames=2,
                     label_map=path, pipeline=pipeline, video_format="avi")


def test_given_first_frame_is_used(pipeline, tmp_path):
    label_path = write_label_png(tmp_path / "labels.png", street_label_map()[0])
    pixels = np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "first.png")
    outcome = generate.run(checkpoint_dir=None, output=str(tmp_path / "v.gif"), num_frames=1,
                           label_map=label_path, first_frame=str(tmp_path / "first.png"),
                           pipeline=pipeline)
    np.testing.assert_allclose(outcome["result"]["video"][0, 0], pixels / 255.0, atol=1e-6)


def test_missing_inputs_name_their_flags(model_dirs, tmp_path):
    img2vid_dir, label2image_dir = model_dirs
    label_path = write_label_png(tmp_path / "labels.png", street_label_map()[0])
    output = str(tmp_path / "v.gif")
    with pytest.raises(FileNotFoundError, match="--checkpoint_dir"):
        generate.run(checkpoint_dir=str(tmp_path / "none"), output=output, label_map=label_path,
                     label2image_checkpoint_dir=label2image_dir)
    with pytest.raises(FileNotFoundError, match="--label2image_checkpoint_dir"):
        generate.run(checkpoint_dir=img2vid_dir, output=output, label_map=label_path,
                     label2image_checkpoint_dir=str(tmp_path / "none"))
    with pytest.raises(FlagError, match="--label2image_checkpoint_dir .*--first_frame or --image"):
        generate.run(checkpoint_dir=img2vid_dir, output=output, label_map=label_path)
    with pytest.raises(FlagError, match="--num_frames"):
        generate.run(checkpoint_dir=img2vid_dir, output=output, label_map=label_path,
                     num_frames=0)
    frame_path = str(tmp_path / "frame.png")
    Image.fromarray(np.zeros((SIZE, SIZE, 3), np.uint8)).save(frame_path)
    for flag in ("repaint_weight", "detail_weight"):  # stage 1 paints even with a first frame
        with pytest.raises(FlagError, match=f"--{flag} > 0 paints with stage 1: set --label2im"):
            generate.run(checkpoint_dir=img2vid_dir, output=output, label_map=label_path,
                         first_frame=frame_path,
                         rollout_options=rollout.RolloutOptions(**{flag: 0.5}))


def test_command_line_end_to_end(model_dirs, tmp_path):
    img2vid_dir, label2image_dir = model_dirs
    ids = street_label_map(size=64)[0]  # half the model's size: resized with a notice
    label_path = write_label_png(tmp_path / "labels.png", ids)
    output = tmp_path / "out" / "video.gif"
    command = [sys.executable, "-m", "seg2vid_tf.generate", f"--label_map={label_path}",
               "--num_frames=5", "--seed=4", f"--output={output}",
               f"--checkpoint_dir={img2vid_dir}",
               f"--label2image_checkpoint_dir={label2image_dir}", "--show_flow"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600,
                            check=False, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Wrote 6 frames" in result.stdout
    assert "resizing it to the model's 128x128" in result.stderr
    written = gif_frames(str(output))
    assert written.shape == (6, SIZE, 6 * SIZE, 3)
    # The same panels as an in-process run with the same map (resized alike) and seed, up to
    # the GIF's palette quantisation.
    in_process = generate.run(
        checkpoint_dir=img2vid_dir, label2image_checkpoint_dir=label2image_dir,
        output=str(tmp_path / "in_process.gif"), num_frames=5, seed=4, label_map=label_path,
        show_flow=True, video_format="gif")
    expected = generate.video_panels(in_process["result"], show_flow=True).astype(np.float64)
    errors = np.abs(written.astype(np.float64) - expected).mean(axis=(1, 2, 3))
    assert errors.max() < 4.0, errors
    bad = subprocess.run(command[:3] + [f"--label_map={tmp_path / 'nothing.png'}"] + command[4:],
                         cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert bad.returncode == 1 and "--label_map" in bad.stderr


# --------------------------------------------------------------------------- from a photo
def save_red_is_car_saved_model(directory):
    """A stand-in segmenter SavedModel: car (13) where red > 127, road (0) elsewhere."""
    module = tf.Module()
    module.segment = tf.function(
        lambda images: {"class_ids": tf.where(images[..., 0] > 127, 13, 0)},
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    tf.saved_model.save(module, directory, signatures={"serving_default": module.segment})
    return directory


def street_photo(height=SIZE, width=SIZE):
    pixels = np.full((height, width, 3), 90, np.uint8)
    pixels[height // 2:height // 2 + 20, width // 2 - 30:width // 2 + 10, 0] = 230  # a red car
    return pixels


def test_photo_is_segmented_into_first_frame_and_label_map(pipeline, tmp_path):
    from seg2vid_tf.segmentation import segmenters  # pylint: disable=import-outside-toplevel

    pixels = street_photo(SIZE, 2 * SIZE)  # twice as wide: --resize=crop keeps the centre
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    segmenter = segmenters.load_segmenter(save_red_is_car_saved_model(str(tmp_path / "seg")))
    outcome = generate.run(checkpoint_dir=None, output=str(tmp_path / "v.gif"), num_frames=2,
                           image=str(tmp_path / "photo.png"), pipeline=pipeline, resize="crop",
                           loaded_segmenter=segmenter)
    centre = pixels[:, SIZE // 2:SIZE // 2 + SIZE]
    np.testing.assert_allclose(outcome["result"]["video"][0, 0], centre / 255.0, atol=1e-6)
    expected = np.where(centre[..., 0] > 127, 13, 0)
    np.testing.assert_array_equal(outcome["result"]["label_maps"][0, 0], expected)
    assert outcome["paths"] == [str(tmp_path / name) for name in
                                ("v.gif", "v.mp4", "v_label_map.png", "v_label_map_color.png")]
    written, _ = generate.read_label_map(str(tmp_path / "v_label_map.png"))
    np.testing.assert_array_equal(written, expected)


def test_photo_excludes_label_map_and_first_frame(pipeline, tmp_path):
    Image.fromarray(street_photo()).save(tmp_path / "photo.png")
    label_path = write_label_png(tmp_path / "labels.png", street_label_map()[0])
    for extra in ({"label_map": label_path}, {"first_frame": str(tmp_path / "photo.png")}):
        with pytest.raises(ValueError, match="--image .*do not combine"):
            generate.run(checkpoint_dir=None, output=str(tmp_path / "v.gif"), pipeline=pipeline,
                         image=str(tmp_path / "photo.png"), **extra)
    with pytest.raises(FileNotFoundError, match="--image"):
        generate.run(checkpoint_dir=None, output=str(tmp_path / "v.gif"), pipeline=pipeline,
                     image=str(tmp_path / "none.jpg"))


def test_command_line_from_a_photo(model_dirs, tmp_path):
    img2vid_dir, _ = model_dirs
    Image.fromarray(street_photo()).save(tmp_path / "photo.jpg", quality=95)
    segmenter = save_red_is_car_saved_model(str(tmp_path / "segmenter"))
    output = tmp_path / "out" / "photo_video.gif"
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.generate", f"--image={tmp_path / 'photo.jpg'}",
         f"--segmenter={segmenter}", f"--checkpoint_dir={img2vid_dir}", f"--output={output}",
         "--num_frames=3", "--video_format=gif"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert gif_frames(str(output)).shape == (4, SIZE, 2 * SIZE, 3)  # label colours | frame
    ids, _ = generate.read_label_map(str(tmp_path / "out" / "photo_video_label_map.png"))
    assert set(np.unique(ids)) == {0, 13}


def test_a_folder_of_photos_gives_one_video_each_and_reports_the_broken_one(pipeline, tmp_path):
    from seg2vid_tf.segmentation import segmenters  # pylint: disable=import-outside-toplevel

    photos = tmp_path / "image_2"
    photos.mkdir()
    for index in range(2):
        pixels = np.roll(street_photo(), 20 * index, axis=1)
        Image.fromarray(pixels).save(photos / f"00000{index}_10.png")
    Image.fromarray(street_photo()).save(photos / "000000_11.png")  # not matched by the pattern
    (photos / "000002_10.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    segmenter = segmenters.load_segmenter(save_red_is_car_saved_model(str(tmp_path / "seg")))
    outcome = generate.run_folder(image_dir=str(photos), image_pattern="*_10.png",
                                  output_dir=str(tmp_path / "videos"), pipeline=pipeline,
                                  loaded_segmenter=segmenter, num_frames=2, video_format="gif")
    assert sorted(os.path.basename(path) for path in outcome["videos"]) == [
        "000000_10.png", "000001_10.png"]
    assert list(outcome["failed"]) == [str(photos / "000002_10.png")]
    assert "000002_10.png" in outcome["failed"][str(photos / "000002_10.png")]
    for index in range(2):
        stem = tmp_path / "videos" / f"00000{index}_10"
        frames = gif_frames(f"{stem}.gif")
        assert frames.shape == (3, SIZE, 2 * SIZE, 3)
        # Each video starts from its own photo (right panel of frame 0).
        expected = np.roll(street_photo(), 20 * index, axis=1).astype(np.float64)
        assert np.abs(frames[0, :, SIZE:].astype(np.float64) - expected).mean() < 4.0
        written, _ = generate.read_label_map(f"{stem}_label_map.png")
        np.testing.assert_array_equal(written, np.where(expected[..., 0] > 127, 13, 0))
    with pytest.raises(ValueError, match="No images matching '\\*.jpg'"):
        generate.run_folder(image_dir=str(photos), image_pattern="*.jpg",
                            output_dir=str(tmp_path / "v2"), pipeline=pipeline,
                            loaded_segmenter=segmenter)
    with pytest.raises(FlagError, match="--num_frames"):
        generate.run_folder(image_dir=str(photos), output_dir=str(tmp_path / "v3"),
                            pipeline=pipeline, loaded_segmenter=segmenter, num_frames=0)


def test_folder_mode_refuses_missing_or_contradicting_flags():
    values = dict(image_dir="/photos", output_dir="", image=None, label_map=None,
                  first_frame=None)
    with pytest.raises(FlagError, match="--image_dir writes one video per photo: set "
                                        "--output_dir"):
        generate._main_folder(type("Flags", (), values)())  # pylint: disable=protected-access
    values.update(output_dir="/videos", label_map="labels.png")
    with pytest.raises(FlagError, match="do not combine it with --image, --label_map"):
        generate._main_folder(type("Flags", (), values)())  # pylint: disable=protected-access


def test_folder_mode_refuses_a_painting_rollout_without_stage_one(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.zeros((SIZE, SIZE, 3), np.uint8)).save(photos / "a.png")
    with pytest.raises(FlagError, match="--detail_weight > 0 paints with stage 1"):
        generate.run_folder(image_dir=str(photos), output_dir=str(tmp_path / "videos"),
                            checkpoint_dir=str(tmp_path / "img2vid"),
                            rollout_options=rollout.RolloutOptions(detail_weight=0.4))
