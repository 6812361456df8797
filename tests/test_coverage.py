"""The coverage corpus (tests/coverage_corpus.py): Keras 3 models no translator was written
for convert with parity in TF.js, and the coverage table of docs/coverage.md lists exactly this corpus.

make test converts the Keras 3 example models; the keras.applications models (each at its
smallest input, random weights) run under the `corpus` marker in `make coverage`, with a
slice of them in tests/test_models.py and tests/test_optimize.py on every run.
"""

import pytest

from exporter.parity.tolerances import FLOAT32_BOUND

from .coverage_corpus import APPLICATIONS, CORPUS, EXAMPLES, readme_rows, run
from .parity_helper import assert_parity

pytestmark = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")


def test_the_readme_table_lists_exactly_the_corpus():
    assert list(readme_rows()) == [e.name for e in CORPUS]


def test_the_corpus_has_every_application_and_fifteen_examples():
    import keras

    assert {e.name for e in APPLICATIONS} == {n for n in dir(keras.applications) if n[0].isupper()}
    assert len(EXAMPLES) >= 15


@pytest.fixture(scope="module")
def example_results(tmp_path_factory):
    return run(EXAMPLES, tmp_path_factory.mktemp("corpus-examples"))


@pytest.mark.parametrize("entry", EXAMPLES, ids=lambda e: e.name)
def test_keras3_example_converts_with_parity(example_results, entry):
    assert_parity(example_results[entry.name], FLOAT32_BOUND)


@pytest.fixture(scope="module")
def application_results(tmp_path_factory):
    return run(APPLICATIONS, tmp_path_factory.mktemp("corpus-applications"))


@pytest.mark.corpus
@pytest.mark.parametrize("entry", APPLICATIONS, ids=lambda e: e.name)
def test_keras_application_converts_with_parity(application_results, entry):
    assert_parity(application_results[entry.name], FLOAT32_BOUND)
