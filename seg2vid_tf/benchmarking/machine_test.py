"""The recorded environment: thread settings kept, Terraform's `TF_` variables dropped."""

from seg2vid_tf.benchmarking.machine import threading_environment


def test_threading_environment_keeps_thread_settings_and_drops_terraform():
    environment = {"OMP_NUM_THREADS": "2", "TF_ENABLE_ONEDNN_OPTS": "0", "HOME": "/root",
                   "TF_CLI_CONFIG_FILE": "/root/.terraformrc", "ONEDNN_VERBOSE": "1"}
    assert threading_environment(environment) == {
        "OMP_NUM_THREADS": "2", "ONEDNN_VERBOSE": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}
