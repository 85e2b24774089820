"""Utilities: preset handling and tensor conversion helpers."""

from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import PresetNotAvailableError
