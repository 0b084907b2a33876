"""Tests for seg2vid_tf.data.videos (split files of folder-of-videos datasets)."""

from seg2vid_tf.data import videos


def test_split_file(tmp_path):
    split = tmp_path / "trainlist01.txt"
    split.write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n\n# comment\nperson01_walking_d1\n"
    )
    assert videos.read_split_file(split) == {"v_ApplyEyeMakeup_g08_c01", "person01_walking_d1"}
