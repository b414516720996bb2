"""scikit-learn's own estimator checks, for every solver, with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor

# The checks fit many tiny, noisy data sets for the default 200 epochs; not
# converging there is expected and is not what these checks are about.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Every solver, at its defaults. (dtype='float32' and dropout pass every check
# but sample-weight equivalence, which they cannot pass by nature: float32
# rounding differs between repeated and weighted rows, and dropout masks are
# drawn per row; tests/test_training.py covers them.)
ESTIMATORS = (
    [
        Estimator(solver=solver, random_state=0)
        for Estimator in (MLPScratchClassifier, MLPScratchRegressor)
        for solver in ("adam", "sgd", "rmsprop", "adamw", "lbfgs")
    ]
    + [
        # the classifier's other loss, and smoothed targets
        MLPScratchClassifier(loss="focal", random_state=0),
        MLPScratchClassifier(label_smoothing=0.1, random_state=0),
    ]
    + [  # batch and layer normalization, in both estimators
        Estimator(normalization=kind, random_state=0)
        for Estimator in (MLPScratchClassifier, MLPScratchRegressor)
        for kind in ("batch", "layer")
    ]
)


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
