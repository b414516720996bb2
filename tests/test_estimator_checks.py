"""scikit-learn's own estimator checks, for every solver, with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknumpy_mlp import MLPScratchClassifier

# The checks fit many tiny, noisy data sets for the default 200 epochs; not
# converging there is expected and is not what these checks are about.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    MLPScratchClassifier(solver="adam", random_state=0),
    MLPScratchClassifier(solver="sgd", random_state=0),
    MLPScratchClassifier(solver="adam", dtype="float64", random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
