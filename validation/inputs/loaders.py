"""Loading a model artifact whose hash was checked, by its format.

Each format is loaded by its library's own loader; none is unpickled unless the spec opts in
(``docs/models.md`` has the details):

- ``.skops``: ``skops.io.load``, trusting skops' defaults and :data:`EXTRA_TRUSTED_SKOPS_TYPES`;
  gives the scikit-learn object.
- ``.json``, ``.ubj``: ``xgboost.XGBClassifier().load_model``; gives the ``XGBClassifier``.
- ``.txt``: ``lightgbm.Booster(model_file=...)``; gives a :class:`LightGBMModel`.
- ``.cbm``: ``catboost.CatBoostClassifier().load_model``; gives the ``CatBoostClassifier``.
- ``.onnx``: ``onnxruntime.InferenceSession`` on the CPU; gives an :class:`OnnxModel`.
- ``.joblib``, ``.pkl``, ``.pickle``: only with ``model.allow_pickle: true``; ``joblib.load``, or
  statsmodels' own ``load_pickle`` for a statsmodels result, which is given as a
  :class:`StatsmodelsModel`.

The adapters have ``predict_proba(frame)`` (an ``(n, 2)`` array), ``decision_function(frame)``
(the log-odds of class 1) and, where the file knows them, ``feature_names_in_``. A refusal names
the formats that would work; a missing optional library names the extra that installs it
(``pip install 'validation[xgboost]'``).
"""

from __future__ import annotations

import collections
import importlib
import pickletools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from validation.errors import ArtifactError
from validation.inputs.model_frames import with_categories

EXTRA_TRUSTED_SKOPS_TYPES: dict[str, str] = {
    "functools.partial": "binds a function to arguments; the function and each argument are stored "
                         "as objects of their own and pass this check themselves (a partial of "
                         "builtins.eval is refused for builtins.eval)",
    "builtins.object": "a type, used as a dtype selector (make_column_selector(dtype_include=object)); "
                       "loading a type runs nothing",
    "numpy.dtype": "a data type description",
    "numpy.clip": "pure array function: computes a new array from its arguments, no I/O",
    "numpy.round": "pure array function",
    "numpy.around": "pure array function",
    "numpy.nan_to_num": "pure array function",
    "numpy.where": "pure array function",
    "numpy.digitize": "pure array function",
    "numpy.asarray": "pure array function (converts its argument to an array)",
    "scipy._lib.array_api_compat.numpy._aliases.asarray": "scipy's alias of numpy.asarray "
                                                          "(SplineTransformer's BSpline)",
    "scipy.interpolate._bsplines.BSpline": "spline knots and coefficients (SplineTransformer)",
    "sklearn.utils.validation.check_array": "scikit-learn's input validation; HistGradientBoosting "
                                            "keeps it in a functools.partial",
    "sklearn.utils._bunch.Bunch": "a dict with attribute access (Stacking and Voting ensembles)",
    "sklearn.compose._column_transformer.make_column_selector": "selects columns by name pattern "
                                                                "or dtype",
    "sklearn.tree._tree.Tree": "a fitted decision tree's arrays (trees, forests, gradient boosting), "
                               "restored by scikit-learn's own __setstate__",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": "HistGradientBoosting's "
                                                                        "tree nodes (arrays)",
    "sklearn.calibration._CalibratedClassifier": "CalibratedClassifierCV's fitted estimator and "
                                                 "calibrator of one fold",
    "sklearn.calibration._SigmoidCalibration": "Platt scaling's two parameters",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer": "an MLP's optimizer state "
                                                                   "(arrays and rates)",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer": "an MLP's optimizer state",
    "sklearn.neighbors._kd_tree.KDTree": "a nearest-neighbour index (arrays)",
    "sklearn.neighbors._ball_tree.BallTree": "a nearest-neighbour index (arrays)",
    "sklearn.metrics._dist_metrics.EuclideanDistance64": "the distance a neighbour index uses",
    "sklearn.metrics._scorer._PassthroughScorer": "a search's scorer: calls the estimator's own score",
    "sklearn.model_selection._split.StratifiedKFold": "a search's cross-validation splitter "
                                                      "(parameters only)",
    "sklearn.model_selection._split.KFold": "a search's cross-validation splitter (parameters only)",
}
"""Types trusted in ``.skops`` files beyond skops' own defaults, each reviewed, with the reason it
is safe. Only these exact names: a prefix rule (``numpy.``) would trust ``numpy.savetxt`` in a
``functools.partial``, which writes files when the model scores."""

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
SAFE_FORMATS = (".skops (scikit-learn), .json or .ubj (XGBoost), .txt (LightGBM), .cbm (CatBoost), "
                ".onnx (any model converted to ONNX)")
ALL_FORMATS = (SAFE_FORMATS + ", and, with model.allow_pickle: true, .joblib, .pkl or .pickle "
               "(pickles, statsmodels results among them)")
UNKNOWN_FORMAT = "unknown artifact format '{suffix}'; supported: {formats}"
PICKLE_REFUSED = ("is a pickle ({suffix}): loading a pickle can run any code, so it loads only when "
                  "the spec sets model.allow_pickle: true (after its sha256 check); formats that load "
                  "without it: {formats}")
MISSING_LIBRARY = ("needs the {library} library to load ({error}); install it with "
                   "pip install 'validation[{extra}]'")
UNTRUSTED_SKOPS = ("holds types that are not trusted: {types}; they are not loaded, since they could "
                   "run code when the model loads or scores (the extra types trusted are listed in "
                   "docs/models.md). Formats that would work: {formats}")
NOT_LOADED = "could not be loaded as {label} ({error})"
NOT_BINARY = "is {what}, not a binary classifier; {fix}"

EXTRAS = {"xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
          "onnxruntime": "onnx", "statsmodels": "statsmodels"}
"""Optional libraries (top-level module) and the extra of ``pyproject.toml`` that installs each."""


@dataclass(frozen=True)
class ArtifactFormat:
    """One artifact format: its suffixes, its library and how a file of it loads."""

    suffixes: tuple[str, ...]
    label: str
    library: str | None
    load: Callable[[Path], Any]
    pickle: bool = False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities, clipped to [1e-15, 1 - 1e-15] as :func:`artifacts.margin` does."""
    q = np.clip(np.asarray(p, dtype=float), 1e-15, 1 - 1e-15)
    return np.log(q) - np.log1p(-q)


def _two_columns(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float).reshape(-1)
    return np.column_stack([1 - p, p])


def _columns(frame: pd.DataFrame, names: Sequence[str], library: str) -> pd.DataFrame:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"the {library} model needs the columns {', '.join(missing)}, which the "
                         f"data lacks; list the model's inputs in data.features")
    return frame[list(names)]


# ---------------------------------------------------------------- skops

def _load_skops(path: Path) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    refused = [name for name in untrusted if name not in EXTRA_TRUSTED_SKOPS_TYPES]
    if refused:
        raise ArtifactError(path, UNTRUSTED_SKOPS.format(types=", ".join(refused),
                                                         formats=_ways_out(refused)))
    return sio.load(path, trusted=untrusted)


def _ways_out(types: Sequence[str]) -> str:
    """The formats that would carry a model holding ``types``, its library's first."""
    native = {"xgboost": "XGBoost's own .json or .ubj (model.save_model('model.json'))",
              "lightgbm": "LightGBM's own .txt (model.booster_.save_model('model.txt'))",
              "catboost": "CatBoost's own .cbm (model.save_model('model.cbm'))"}
    first = [text for library, text in native.items() if any(t.startswith(library + ".") for t in types)]
    return "; ".join([*first, "ONNX (.onnx, e.g. with skl2onnx)",
                      "a pickle (.joblib) with model.allow_pickle: true, if you trust the file"])


# ---------------------------------------------------------------- XGBoost and CatBoost

def _load_xgboost(path: Path) -> Any:
    import json

    import xgboost

    model = xgboost.XGBClassifier()
    try:
        model.load_model(path)
    except TypeError as exc:  # a regressor's file: "Loading an estimator with different type"
        raise ArtifactError(path, NOT_BINARY.format(what="an XGBoost model of another kind",
                                                    fix=f"give a binary classifier ({exc})")) from None
    objective = json.loads(model.get_booster().save_config())["learner"]["objective"]["name"]
    if objective != "binary:logistic":
        raise ArtifactError(path, NOT_BINARY.format(
            what=f"an XGBoost model with objective {objective}",
            fix="train it with objective binary:logistic (XGBClassifier's default for two classes)"))
    return model


def _load_catboost(path: Path) -> Any:
    import catboost

    model = catboost.CatBoostClassifier()
    model.load_model(str(path), format="cbm")
    loss = str(model.get_all_params().get("loss_function", ""))
    if loss not in ("Logloss", "CrossEntropy"):
        raise ArtifactError(path, NOT_BINARY.format(
            what=f"a CatBoost model with loss {loss or 'unknown'}",
            fix="train a CatBoostClassifier on two classes (loss Logloss)"))
    return model


# ---------------------------------------------------------------- LightGBM

def _generic(names: Sequence[str], prefix: str) -> bool:
    """True when ``names`` are a library's default names (``Column_0``, ``x1``): the model was
    fitted on an array and knows no column names."""
    return all(name.startswith(prefix) and name[len(prefix):].isdigit() for name in names)


class LightGBMModel:
    """A LightGBM booster read from its text model file, as a binary classifier.

    Text columns that the booster fitted as pandas categories are cast to exactly those
    categories (``pandas_categorical`` in the model file), so a category's code means the same as
    at fitting; a category unseen at fitting becomes missing.

    Attributes
    ----------
    booster_
        The ``lightgbm.Booster`` (as ``LGBMClassifier.booster_``).
    feature_names_in_
        The input columns, in the booster's order (absent when it was fitted on an array).
    categories
        The fitted categories of each categorical column.
    """

    feature_names_in_: list[str]

    def __init__(self, booster: Any) -> None:
        self.booster_ = booster
        names = [str(name) for name in booster.feature_name()]
        self._names = names
        if not _generic(names, "Column_"):
            self.feature_names_in_ = names
        self.categories = self._fitted_categories(booster, names)
        self.sigmoid = float(booster.params.get("sigmoid", 1.0))

    @staticmethod
    def _fitted_categories(booster: Any, names: list[str]) -> dict[str, list[Any]]:
        """The booster's pandas categories by column: ``pandas_categorical`` holds them in the
        order of the columns that were pandas categories, which are the categorical features
        when no other column was declared categorical."""
        fitted = booster.pandas_categorical or []
        declared = booster.params.get("categorical_feature") or []
        if isinstance(declared, str):
            declared = [int(index) for index in declared.split(",") if index.strip().isdigit()]
        indices = sorted(int(index) for index in declared)
        if len(indices) != len(fitted):
            return {}
        return {names[index]: list(values) for index, values in zip(indices, fitted)}

    @property
    def classes_(self) -> np.ndarray:
        return np.array([0, 1])

    def _frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        if hasattr(self, "feature_names_in_"):
            frame = _columns(frame, self.feature_names_in_, "LightGBM")
        known = {c: frame[c].where(frame[c].isin(values)) for c, values in self.categories.items()
                 if c in frame.columns}  # unseen categories made missing first: pandas 3 warns on them
        frame = with_categories(frame.assign(**known), self.categories)
        text = [str(c) for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                                      or isinstance(frame[c].dtype, pd.CategoricalDtype))]
        if text:
            raise ValueError(f"column {', '.join(text)} holds text, but the LightGBM model was not "
                             "fitted on it as a pandas category; give it as numbers")
        return frame

    def decision_function(self, frame: pd.DataFrame) -> np.ndarray:
        """Log-odds: the booster's raw score times its ``sigmoid`` parameter (1 by default)."""
        raw = self.booster_.predict(self._frame(frame), raw_score=True)
        return self.sigmoid * np.asarray(raw, dtype=float)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Columns: probability of class 0, of class 1."""
        return _two_columns(self.booster_.predict(self._frame(frame)))


def _load_lightgbm(path: Path) -> LightGBMModel:
    import lightgbm

    booster = lightgbm.Booster(model_file=str(path))
    objective = str(booster.params.get("objective", ""))
    if objective not in ("binary", "cross_entropy", "xentropy"):
        raise ArtifactError(path, NOT_BINARY.format(what=f"a LightGBM model with objective "
                                                         f"{objective or 'unknown'}",
                                                    fix="train it with objective binary"))
    return LightGBMModel(booster)


# ---------------------------------------------------------------- ONNX

_ONNX_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                "tensor(int32)": np.int32, "tensor(bool)": np.bool_, "tensor(string)": object}
ZIPMAP_LABELS = ("gives probabilities by class label {labels}, not 0 and 1; convert it again with "
                 "zipmap=False (skl2onnx: options={{'zipmap': False}}) and labels 0 and 1")


class OnnxModel:
    """An ONNX model run by onnxruntime on the CPU, as a binary classifier.

    Inputs: one tensor per column, named as the column (skl2onnx's way for a pipeline of mixed
    columns; text columns as string tensors, a missing text as the empty string), or one tensor
    taking the frame's columns in their order. Output: the one named like ``probabilities``, a
    ``(n, 2)`` or ``(n, 1)`` tensor or skl2onnx's ZipMap (a list of ``{0: p0, 1: p1}``).
    Probabilities are computed in the graph's precision (often float32: about 1e-7).

    Attributes
    ----------
    feature_names_in_
        The input columns, when the graph takes one input per column.
    """

    feature_names_in_: list[str]

    def __init__(self, content: bytes) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 4  # fatal only: errors are raised, not printed too
        self._content = content
        self._session = onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])
        self._inputs = [(node.name, node.type, list(node.shape)) for node in self._session.get_inputs()]
        unsupported = [f"{name} ({kind})" for name, kind, _ in self._inputs if kind not in _ONNX_DTYPES]
        if unsupported:
            raise ValueError(f"inputs of unsupported types: {', '.join(unsupported)}")
        self._output = self._probability_output()
        if len(self._inputs) > 1:
            wide = [name for name, _, shape in self._inputs if len(shape) == 2 and shape[1] not in (1, None)]
            if wide:
                raise ValueError(f"inputs {', '.join(wide)} take several columns each; give one "
                                 "input per column or one input for all columns")
            self.feature_names_in_ = [name for name, _, _ in self._inputs]

    def __reduce__(self) -> tuple[Any, ...]:
        return (OnnxModel, (self._content,))  # a session does not pickle; its bytes do

    def _probability_output(self) -> str:
        outputs = [(node.name, node.type) for node in self._session.get_outputs()]
        usable = [(name, kind) for name, kind in outputs
                  if kind.startswith("seq(map(") or kind in ("tensor(float)", "tensor(double)")]
        named = [name for name, _ in usable if "prob" in name.lower()]
        if len(named) == 1:
            return named[0]
        if len(usable) == 1:
            return usable[0][0]
        raise ValueError(f"no single probability output among {', '.join(n for n, _ in outputs)}; "
                         "name it 'probabilities'")

    @property
    def classes_(self) -> np.ndarray:
        return np.array([0, 1])

    def _feeds(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        names = getattr(self, "feature_names_in_", None)
        if names is None and len(self._inputs) == 1 and self._inputs[0][0] in frame.columns \
                and self._inputs[0][2][-1:] == [1]:
            names = [self._inputs[0][0]]
        if names is not None:
            frame = _columns(frame, names, "ONNX")
            return {name: self._tensor(frame[[name]], kind, name) for name, kind, _ in self._inputs}
        name, kind, shape = self._inputs[0]
        width = shape[1] if len(shape) == 2 else None
        if isinstance(width, int) and width != frame.shape[1]:
            raise ValueError(f"the ONNX model takes {width} columns but the data gives "
                             f"{frame.shape[1]}; list the model's columns in data.features, in "
                             "the order it was fitted on")
        return {name: self._tensor(frame, kind, name)}

    @staticmethod
    def _tensor(frame: pd.DataFrame, kind: str, name: str) -> np.ndarray:
        dtype = _ONNX_DTYPES[kind]
        if dtype is object:
            return frame.astype(object).where(frame.notna(), "").astype(str).to_numpy(dtype=object)
        try:
            return frame.to_numpy(dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"input {name} takes {kind}, but the data's column(s) "
                             f"{', '.join(map(str, frame.columns))} could not be converted ({exc})") from None

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Columns: probability of class 0, of class 1."""
        (result,) = self._session.run([self._output], self._feeds(frame))
        if isinstance(result, list):  # ZipMap: one {label: probability} per row
            labels = set(result[0]) if result else {0, 1}
            if labels != {0, 1}:
                raise ValueError(ZIPMAP_LABELS.format(labels=sorted(map(str, labels))))
            return _two_columns(np.array([row[1] for row in result], dtype=float))
        values = np.asarray(result, dtype=float)
        p = values[:, 1] if values.ndim == 2 and values.shape[1] == 2 else values.reshape(-1)
        if np.any((p < 0) | (p > 1)):
            raise ValueError(f"output {self._output} holds values outside [0, 1]: it is not a "
                             "probability; export the model with its probability output")
        return _two_columns(p)

    def decision_function(self, frame: pd.DataFrame) -> np.ndarray:
        """Log-odds of the probability, clipped to [1e-15, 1 - 1e-15]."""
        return _logit(self.predict_proba(frame)[:, 1])


ONNX_EXTERNAL_DATA = ("keeps tensors in external data files, which its sha256 does not cover; save it as "
                      "one file (onnx.save_model(model, path, save_as_external_data=False))")


def _load_onnx(path: Path) -> OnnxModel:
    """From the bytes that were hashed: a graph whose tensors sit in external data files (not
    pinned by the hash) does not load."""
    try:
        return OnnxModel(path.read_bytes())
    except Exception as exc:
        text = str(exc)  # onnxruntime's words, by whether the data file exists in the working folder
        if "model_path must not be empty" in text or "External data path" in text:
            raise ArtifactError(path, ONNX_EXTERNAL_DATA) from None
        raise


# ---------------------------------------------------------------- statsmodels and pickles

class StatsmodelsModel:
    """A statsmodels binary-outcome result (Logit, Probit, GLM Binomial) as a classifier.

    A result of the formula API predicts from the frame itself (its formula builds the design,
    text columns included); one of the array API from its exog columns by name, with the constant
    added where the result has one (``sm.add_constant``'s ``const``).

    Attributes
    ----------
    results
        The statsmodels result.
    feature_names_in_
        The input columns, when the result knows them.
    """

    feature_names_in_: list[str]

    def __init__(self, results: Any) -> None:
        self.results = results
        model = results.model
        self._formula = getattr(model, "formula", None)
        self._const = getattr(model.data, "const_idx", None)
        names = [str(name) for name in model.exog_names]
        self._exog = [name for i, name in enumerate(names) if i != self._const]
        self._logit_link = _is_logit(model)
        if self._formula is not None:
            known = _formula_columns(model, str(self._formula))
            if known:
                self.feature_names_in_ = known
        elif not _generic(self._exog, "x"):
            self.feature_names_in_ = self._exog

    @property
    def classes_(self) -> np.ndarray:
        return np.array([0, 1])

    def _design(self, frame: pd.DataFrame) -> Any:
        if self._formula is not None:
            return frame
        if hasattr(self, "feature_names_in_"):
            frame = _columns(frame, self.feature_names_in_, "statsmodels")
        elif frame.shape[1] != len(self._exog):
            raise ValueError(f"the statsmodels result takes {len(self._exog)} columns but the data "
                             f"gives {frame.shape[1]}; list its columns in data.features, in order")
        values = frame.to_numpy(dtype=float)
        if self._const is not None:
            values = np.insert(values, self._const, 1.0, axis=1)
        return values

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Columns: probability of class 0, of class 1 (missing where an input is missing)."""
        return _two_columns(np.asarray(self.results.predict(self._design(frame)), dtype=float))

    def decision_function(self, frame: pd.DataFrame) -> np.ndarray:
        """Log-odds: the linear predictor for a logit link, else the logit of the probability."""
        if self._logit_link:
            return np.asarray(self.results.predict(self._design(frame), which="linear"), dtype=float)
        return _logit(self.predict_proba(frame)[:, 1])


def _is_logit(model: Any) -> bool:
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.genmod.families import links

    if isinstance(model, Logit):
        return True
    family = getattr(model, "family", None)
    return family is not None and isinstance(family.link, links.Logit)


def _formula_columns(model: Any, formula: str) -> list[str]:
    """The data's columns named on the formula's right-hand side (the result keeps its data)."""
    import re

    frame = getattr(model.data, "frame", None)
    if frame is None:
        return []
    right = formula.split("~", 1)[-1]
    return [str(c) for c in frame.columns
            if re.search(rf"(?<![\w.]){re.escape(str(c))}(?![\w])", right)]


def _binary_statsmodels(results: Any, path: Path) -> StatsmodelsModel:
    from statsmodels.discrete.discrete_model import BinaryModel
    from statsmodels.genmod.families import Binomial

    model = getattr(results, "model", None)
    if isinstance(model, BinaryModel) or isinstance(getattr(model, "family", None), Binomial):
        return StatsmodelsModel(results)
    raise ArtifactError(path, NOT_BINARY.format(
        what=f"a statsmodels {type(model).__name__} result",
        fix="give a Logit, Probit or GLM (Binomial family) result"))


def _pickle_module(path: Path) -> str:
    """The module of the pickle's first global (the class of the object it holds), read from the
    opcodes without running them; ``""`` when there is none or the file is not a plain pickle."""
    strings: list[str] = []
    try:
        with path.open("rb") as handle:
            for count, (op, arg, _) in enumerate(pickletools.genops(handle)):
                if op.name == "GLOBAL":
                    return str(arg).split(" ", 1)[0]
                if op.name == "STACK_GLOBAL":
                    return strings[-2] if len(strings) >= 2 else ""
                if isinstance(arg, str):
                    strings.append(arg)
                if count > 64:
                    break
    except Exception:  # a joblib file interleaves raw arrays: not read further here
        return ""
    return ""


def _load_pickle(path: Path) -> Any:
    """A statsmodels result with statsmodels' own ``load_pickle`` (``results.save``), any other
    pickle, or a statsmodels result written by ``joblib.dump``, with ``joblib.load``."""
    import pickle

    import joblib

    loaded: Any = None
    if path.suffix.lower() != ".joblib" and _pickle_module(path).split(".")[0] == "statsmodels":
        from statsmodels.iolib.smpickle import load_pickle

        try:
            loaded = load_pickle(path)
        except pickle.UnpicklingError:  # joblib's format (arrays stored apart): joblib reads it
            loaded = None
    if loaded is None:
        loaded = joblib.load(path)
    if type(loaded).__module__.startswith("statsmodels.") and hasattr(loaded, "model"):
        return _binary_statsmodels(loaded, path)
    return loaded


# ---------------------------------------------------------------- the registry

FORMATS: tuple[ArtifactFormat, ...] = (
    ArtifactFormat((".skops",), "a skops file", "skops", _load_skops),
    ArtifactFormat((".json", ".ubj"), "an XGBoost model", "xgboost", _load_xgboost),
    ArtifactFormat((".txt",), "a LightGBM model", "lightgbm", _load_lightgbm),
    ArtifactFormat((".cbm",), "a CatBoost model", "catboost", _load_catboost),
    ArtifactFormat((".onnx",), "an ONNX model", "onnxruntime", _load_onnx),
    ArtifactFormat(PICKLE_SUFFIXES, "a pickle", None, _load_pickle, pickle=True),
)
"""The formats, by suffix; a new one is one entry here (and a row in ``docs/models.md``)."""


def artifact_format(path: Path) -> ArtifactFormat:
    """The format of ``path`` by its suffix.

    Raises
    ------
    ArtifactError
        For an unknown suffix, naming every supported one.

    Examples
    --------
    >>> artifact_format(Path("model.UBJ")).label
    'an XGBoost model'
    >>> artifact_format(Path("model.h5"))
    Traceback (most recent call last):
    ...
    validation.errors.ArtifactError: model.artifact: model.h5: unknown artifact format '.h5'; supported: .skops ...
    """
    suffix = path.suffix.lower()
    for candidate in FORMATS:
        if suffix in candidate.suffixes:
            return candidate
    raise ArtifactError(path, UNKNOWN_FORMAT.format(suffix=suffix or "(none)", formats=ALL_FORMATS))


def _load(path: Path, allow_pickle: bool) -> Any:
    found = artifact_format(path)
    if found.pickle and not allow_pickle:
        raise ArtifactError(path, PICKLE_REFUSED.format(suffix=path.suffix.lower(), formats=SAFE_FORMATS))
    try:
        if found.library is not None:
            importlib.import_module(found.library)
        return found.load(path)
    except ArtifactError:
        raise
    except ImportError as exc:
        library = (getattr(exc, "name", None) or found.library or "").split(".")[0]
        if library in EXTRAS:
            raise ArtifactError(path, MISSING_LIBRARY.format(library=library, error=_first_line(exc),
                                                             extra=EXTRAS[library])) from None
        raise ArtifactError(path, NOT_LOADED.format(label=found.label, error=_first_line(exc))) from None
    except Exception as exc:  # any loader failure is the artifact's problem, said plainly
        raise ArtifactError(path, NOT_LOADED.format(label=found.label, error=_first_line(exc))) from None


_CACHE: collections.OrderedDict[tuple[str, str, bool], Any] = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def load_verified(path_text: str, sha256: str, allow_pickle: bool = False) -> Any:
    """Load an artifact whose hash was just checked, by its format.

    Cached by content (the sha256, the format's suffix and ``allow_pickle``), so a batch of many
    versions sharing an artifact loads it once per process, even from another path or URL; the
    last eight are kept.

    Raises
    ------
    ArtifactError
        An unknown format, a pickle without ``allow_pickle``, an untrusted type, a missing
        optional library (naming its extra), or a file its library cannot load.
    """
    path = Path(path_text)
    key = (sha256, path.suffix.lower(), bool(allow_pickle))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    loaded = _load(path, bool(allow_pickle))
    with _CACHE_LOCK:
        _CACHE[key] = loaded
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return loaded
