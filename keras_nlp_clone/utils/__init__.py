"""Utilities: preset handling and tensor conversion helpers."""

from keras_nlp_clone.utils.preset_utils import PresetError
from keras_nlp_clone.utils.preset_utils import PresetNotAvailableError
