import pytest

from rag.errors import ConfigError, ModelMissingError
from rag.generation.models import manifest, model_file, resolve_model


def test_manifest_names_sha_and_parts():
    entries = manifest()
    assert {"qwen1.5b", "qwen0.5b", "smollm2"} <= set(entries)
    assert entries["qwen1.5b"]["parts"]["count"] == 22
    assert all(len(e["sha256"]) == 64 for e in entries.values())


def test_unknown_and_unassembled_models_say_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="choose one of"):
        model_file("gpt-9")
    with pytest.raises(ModelMissingError, match="make models"):
        resolve_model("qwen0.5b", models_dir=tmp_path)
    # a file whose recorded hash does not match is not trusted
    path = model_file("smollm2", tmp_path)
    path.write_bytes(b"truncated")
    path.with_name(path.name + ".sha256").write_text("0" * 64 + " 9\n")
    with pytest.raises(ModelMissingError):
        resolve_model("smollm2", models_dir=tmp_path)
