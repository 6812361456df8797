import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
# As exporter/__init__.py sets it (channels_first convolutions on every CPU), before a test imports
# Keras or TensorFlow ahead of the exporter.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


import pytest  # noqa: E402 - after the environment above, which must precede any TensorFlow import


@pytest.fixture(scope="module")
def http_base():
    """The demo served as `make demo` serves it (cross-origin isolated), on a loopback port."""
    from exporter.browser.chromium import WEB_DEMO
    from exporter.browser.serve import serving

    with serving({"/": WEB_DEMO}) as base:
        yield base


@pytest.fixture(scope="session")
def fuzz_seeds(tmp_path_factory):
    """The real files the fuzzer mutates (tests/fuzz/seeds.py), made once for the session."""
    from tests.fuzz.seeds import build_seeds

    return build_seeds(tmp_path_factory.mktemp("fuzz-seeds"))
