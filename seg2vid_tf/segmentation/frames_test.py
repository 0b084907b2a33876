"""Frames of own footage: the resize policy, and images, directories, globs and videos opened."""

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from seg2vid_tf.segmentation import frames


def column_bands(rows, cols, edges):
    """uint8 RGB image: 0 left of edges[0], 128 between the edges, 255 right of edges[1]."""
    image = np.full((rows, cols, 3), 128, np.uint8)
    image[:, :edges[0]] = 0
    image[:, edges[1]:] = 255
    return image


def flat_frames(count=6, height=32, width=48):
    """Flat-colour frames, each a different colour, so order and content can be checked."""
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40), (40, 220, 220),
               (128, 128, 128), (240, 240, 240), (16, 16, 16)]
    return np.stack([np.full((height, width, 3), colours[t % len(colours)], np.uint8)
                     for t in range(count)])


def save_png(path, array):
    Image.fromarray(array).save(path)
    return str(path)


def read_all(source):
    return list(source.iterate())


# --------------------------------------------------------------------------- resize_image
def gradient(rows, cols):
    """uint8 RGB image whose every row and column differs: a window shifted or resized shows."""
    values = (np.arange(rows)[:, None] * 7 + np.arange(cols)[None, :] * 3) % 256
    return np.repeat(values[..., None], 3, -1).astype(np.uint8)


def pillow_resize(image, height, width):
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def test_crop_of_a_wide_image_keeps_the_centre_window():
    # 100x200 to 50x50: the centred 100x100 window is columns 50..149, all 128 here; a window
    # off by one column would blend a 0 or a 255 into the edge columns.
    image = column_bands(100, 200, (50, 150))
    out = frames.resize_image(image, 50, 50, mode="crop")
    assert out.shape == (50, 50, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.full((50, 50, 3), 128, np.uint8))
    # And exactly that window (not a narrower one inside the band): the same as scaling it alone.
    image = gradient(100, 200)
    np.testing.assert_array_equal(frames.resize_image(image, 50, 50, mode="crop"),
                                  pillow_resize(image[:, 50:150], 50, 50))


def test_crop_of_a_tall_image_keeps_the_centre_rows():
    # 200x100 to 50x50 keeps rows 50..149; to 20x80 (aspect 1:4) the 25 rows 87..111.
    image = np.transpose(column_bands(100, 200, (50, 150)), (1, 0, 2))
    np.testing.assert_array_equal(frames.resize_image(image, 50, 50, mode="crop"), 128)
    image = gradient(200, 100)
    out = frames.resize_image(image, 20, 80, mode="crop")
    assert out.shape == (20, 80, 3)
    np.testing.assert_array_equal(out, pillow_resize(image[87:112], 20, 80))
    assert not np.array_equal(out, pillow_resize(image[88:112], 20, 80))  # the test can tell


def test_fit_keeps_the_whole_width():
    # 100x200 to 50x50 by fit: the picture is squeezed, so both outer bands are still there
    # (cols 0..11 and 38..49 only see their own band: a 4x reduction reads 4 columns each side).
    image = column_bands(100, 200, (50, 150))
    out = frames.resize_image(image, 50, 50, mode="fit")
    assert out.shape == (50, 50, 3)
    np.testing.assert_array_equal(out[:, :12], 0)
    np.testing.assert_array_equal(out[:, 13:37], 128)
    np.testing.assert_array_equal(out[:, 38:], 255)
    assert (np.diff(out[0, :, 0].astype(int)) >= 0).all()  # no column reordered


def test_an_image_of_the_target_size_is_returned_unchanged():
    image = column_bands(10, 20, (5, 15))
    assert frames.resize_image(image, 10, 20, mode="crop") is image


def test_labels_resized_with_nearest_keep_only_their_values():
    labels = np.array([[0, 13, 13, 7], [0, 13, 7, 7], [19, 0, 0, 7], [19, 19, 0, 13]], np.uint8)
    # A 2x enlargement by nearest neighbour repeats every id in a 2x2 block.
    out = frames.resize_image(labels, 8, 8, mode="fit", resample=Image.NEAREST)
    np.testing.assert_array_equal(out, np.kron(labels, np.ones((2, 2), np.uint8)))
    # Any other size and crop as well: no id appears that the map did not have.
    out = frames.resize_image(labels, 7, 3, mode="crop", resample=Image.NEAREST)
    assert out.shape == (7, 3)
    assert set(np.unique(out)) <= {0, 7, 13, 19}


def test_unknown_resize_mode_is_an_error_naming_the_flag():
    with pytest.raises(ValueError, match="--resize"):
        frames.resize_image(column_bands(10, 20, (5, 15)), 5, 5, mode="stretch")


# --------------------------------------------------------------------------- open_frames
def test_a_single_png_is_one_frame(tmp_path):
    image = flat_frames(1)[0]
    image[3:7, 5:9] = (1, 2, 3)
    source = frames.open_frames(save_png(tmp_path / "photo.png", image))
    assert source.kind == "images" and source.count == 1
    (frame,) = read_all(source)
    np.testing.assert_array_equal(frame, image)


def test_a_greyscale_png_is_read_as_rgb(tmp_path):
    grey = np.arange(60, dtype=np.uint8).reshape(6, 10)
    path = save_png(tmp_path / "grey.png", grey)
    np.testing.assert_array_equal(frames.read_image(path), np.repeat(grey[..., None], 3, -1))


def test_a_directory_is_read_in_sorted_name_order(tmp_path):
    clip = flat_frames(3)
    # Written out of order, with a file that is not an image beside them.
    for name, index in (("b.png", 1), ("c.PNG", 2), ("a.png", 0)):
        save_png(tmp_path / name, clip[index])
    (tmp_path / "notes.txt").write_text("not a frame")
    source = frames.open_frames(str(tmp_path))
    assert source.kind == "images" and source.count == 3
    np.testing.assert_array_equal(np.stack(read_all(source)), clip)


def test_a_glob_reads_only_the_matching_images_in_order(tmp_path):
    clip = flat_frames(4)
    for t in (2, 0, 3, 1):
        save_png(tmp_path / f"seq_{t:02d}_left.png", clip[t])
    save_png(tmp_path / "seq_00_right.png", clip[0])
    (tmp_path / "seq_09_left.txt").write_text("not an image")
    source = frames.open_frames(str(tmp_path / "seq_*_left.*"))
    assert source.count == 4
    np.testing.assert_array_equal(np.stack(read_all(source)), clip)


def test_a_video_file_is_decoded_frame_by_frame(tmp_path):
    clip = flat_frames(6)
    path = str(tmp_path / "clip.mp4")
    imageio.mimsave(path, list(clip), fps=4, macro_block_size=1)
    source = frames.open_frames(path)
    assert source.kind == "video" and "48x32" in source.description
    assert source.count == 6  # 1.5 s at 4 fps
    decoded = read_all(source)
    assert len(decoded) == 6
    for original, frame in zip(clip, decoded):
        assert frame.shape == (32, 48, 3) and frame.dtype == np.uint8
        # Lossy H.264 of flat colours: close to the originals, not equal.
        assert np.abs(frame.astype(int) - original.astype(int)).mean() < 8
    # The source can be iterated again (the video is reopened, not held in memory).
    assert len(read_all(source)) == 6


# --------------------------------------------------------------------------- errors
def test_a_glob_matching_nothing_is_a_file_not_found_error(tmp_path):
    save_png(tmp_path / "a.png", flat_frames(1)[0])
    with pytest.raises(FileNotFoundError, match="--input"):
        frames.open_frames(str(tmp_path / "*.jpg"))


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.mp4"):
        frames.open_frames(str(tmp_path / "nowhere.mp4"))


def test_an_empty_directory_is_an_error(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match="no PNG/JPEG images"):
        frames.open_frames(str(tmp_path))


def test_an_unreadable_image_is_an_error_naming_the_file_when_read(tmp_path):
    save_png(tmp_path / "a.png", flat_frames(1)[0])
    (tmp_path / "b.png").write_bytes(b"\x89PNG but not really" * 4)
    source = frames.open_frames(str(tmp_path))
    iterator = source.iterate()
    assert next(iterator).shape == (32, 48, 3)  # the good frame first
    with pytest.raises(ValueError, match="b.png.*not a readable image"):
        next(iterator)


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42 garbage" * 16],
                         ids=["empty", "garbage"])
def test_a_corrupt_video_is_an_error_naming_the_file(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="broken.mp4"):
        read_all(frames.open_frames(str(path)))


def test_an_unsupported_extension_is_an_error(tmp_path):
    path = tmp_path / "clip.gif"
    path.write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match="clip.gif.*expected a PNG/JPEG image"):
        frames.open_frames(str(path))
