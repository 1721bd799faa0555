"""Model artifacts: refused unless their hash matches; skops types restricted."""

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
    odd = tmp_path / "model.onnx"
    odd.write_bytes(b"x")
    with pytest.raises(ArtifactError, match="unknown artifact format '.onnx'"):
        load_artifact(odd, sha256_file(odd))


def test_unloadable_file(tmp_path: Path) -> None:
    broken = tmp_path / "model.skops"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="could not be loaded"):
        load_artifact(broken, sha256_file(broken))
