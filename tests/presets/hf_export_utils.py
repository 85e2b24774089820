"""Helpers shared by the Hugging Face export tests of every family.

The oracle of an export is `transformers` itself: the exported directory
must load with `AutoModel`/`AutoModelFor...`/`AutoTokenizer` and compute what
our model computes, and a `transformers` checkpoint converted to ours and
exported back must give the same tensors.
"""

import os

import keras
import numpy as np


def read_tensors(directory):
    """The tensors of `<directory>/model.safetensors`, without the
    `position_ids`/`token_type_ids` buffers older `transformers` versions
    saved (they are not weights; current versions do not save them)."""
    from safetensors.numpy import load_file

    tensors = load_file(os.path.join(directory, "model.safetensors"))
    return {
        name: value
        for name, value in tensors.items()
        if not name.endswith(("position_ids", "token_type_ids"))
    }


def assert_same_tensors(expected_dir, actual_dir):
    """Asserts both checkpoints hold the same tensor names, and every
    tensor is bit-identical (same dtype, shape and values)."""
    expected = read_tensors(expected_dir)
    actual = read_tensors(actual_dir)
    assert sorted(expected) == sorted(actual), (
        f"only expected: {sorted(set(expected) - set(actual))}, "
        f"only actual: {sorted(set(actual) - set(expected))}"
    )
    for name, value in expected.items():
        assert actual[name].dtype == value.dtype, name
        assert actual[name].shape == value.shape, name
        np.testing.assert_array_equal(actual[name], value, err_msg=name)


def perturbed(model, seed=0, scale=0.1):
    """Adds noise (std `scale`) to every parameter of a `transformers`
    model, so that layer norms and biases are not at their trivial initial
    values, and returns it in eval mode."""
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(scale * torch.randn_like(parameter))
    return model.eval()


def to_torch(inputs):
    """Our preprocessed inputs as `transformers` keyword arguments."""
    import torch

    names = {
        "token_ids": "input_ids",
        "segment_ids": "token_type_ids",
        "padding_mask": "attention_mask",
    }
    return {
        names[key]: torch.tensor(np.asarray(keras.ops.convert_to_numpy(value))).long()
        for key, value in inputs.items()
        if key in names
    }


def hf_forward(model, inputs):
    """Runs a `transformers` model without gradients on our inputs."""
    import torch

    with torch.no_grad():
        return model(**to_torch(inputs))


def to_numpy(x):
    """A tensor of any backend (or a variable) as a NumPy array."""
    return np.asarray(keras.ops.convert_to_numpy(x))


def numpy_inputs(inputs):
    """Our preprocessor's outputs as NumPy int32 arrays."""
    return {
        key: np.asarray(keras.ops.convert_to_numpy(value)).astype("int32")
        for key, value in inputs.items()
    }
