"""Makes the repository root importable for tests (`tools`, `seg2vid_tf`)."""
