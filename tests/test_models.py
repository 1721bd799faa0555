"""Model artifacts: refused unless their hash matches; a file that does not load says so by format
(each format's loading: tests/test_loaders.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from validation.errors import ArtifactError
from validation.inputs.artifacts import load_artifact, sha256_file


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    import skops.io as sio

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    return path


def test_loads_when_the_hash_matches(artifact: Path) -> None:
    model = load_artifact(artifact, sha256_file(artifact))
    assert model.predict_proba(np.array([[3.0]]))[0, 1] > 0.5


def test_refuses_a_changed_file(artifact: Path) -> None:
    expected = sha256_file(artifact)
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    with pytest.raises(ArtifactError, match="sha256 is .* but the spec says") as caught:
        load_artifact(artifact, expected)
    assert caught.value.path == str(artifact)


def test_missing_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="file not found"):
        load_artifact(tmp_path / "absent.skops", "0" * 64)
    odd = tmp_path / "model.h5"
    odd.write_bytes(b"x")
    with pytest.raises(ArtifactError, match=r"unknown artifact format '\.h5'; supported: \.skops .*\.onnx .*"
                                            r"model\.allow_pickle: true, \.joblib"):
        load_artifact(odd, sha256_file(odd))


@pytest.mark.parametrize(("suffix", "label"), [(".skops", "a skops file"), (".json", "an XGBoost model"),
                                               (".ubj", "an XGBoost model"), (".txt", "a LightGBM model"),
                                               (".cbm", "a CatBoost model"), (".onnx", "an ONNX model")])
def test_unloadable_file(tmp_path: Path, suffix: str, label: str) -> None:
    broken = tmp_path / f"model{suffix}"
    broken.write_bytes(b"not a model")
    with pytest.raises(ArtifactError, match=f"could not be loaded as {label} "):
        load_artifact(broken, sha256_file(broken))
