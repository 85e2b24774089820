import json

import keras
import pytest

from keras_nlp_clone import samplers
from keras_nlp_clone.samplers.serialization import deserialize
from keras_nlp_clone.samplers.serialization import get
from keras_nlp_clone.samplers.serialization import serialize
from tests.test_case import TestCase

NAMES = {
    "beam": samplers.BeamSampler,
    "contrastive": samplers.ContrastiveSampler,
    "greedy": samplers.GreedySampler,
    "random": samplers.RandomSampler,
    "top_k": samplers.TopKSampler,
    "top_p": samplers.TopPSampler,
}

CONFIGURED = [
    samplers.BeamSampler(num_beams=3, return_all_beams=True),
    samplers.ContrastiveSampler(k=4, alpha=0.2, temperature=0.5),
    samplers.GreedySampler(temperature=2.0),
    samplers.RandomSampler(seed=3),
    samplers.TopKSampler(k=7, seed=1, temperature=0.7),
    samplers.TopPSampler(p=0.3, k=10, seed=2),
]


class CustomSampler(samplers.GreedySampler):
    pass


class TestSerialization(TestCase):
    def test_get_by_name(self):
        for name, cls in NAMES.items():
            sampler = get(name)
            assert type(sampler) is cls
            assert sampler.get_config() == cls().get_config()
            assert type(get(cls.__name__)) is cls

    def test_get_instances_classes_and_none(self):
        sampler = samplers.TopKSampler(k=2)
        assert get(sampler) is sampler
        assert get(None) is None
        assert type(get(samplers.TopPSampler)) is samplers.TopPSampler

    def test_unknown_names_list_the_valid_ones(self):
        with pytest.raises(ValueError, match='"top_k"') as info:
            get("nucleus")
        assert "nucleus" in str(info.value)
        with pytest.raises(ValueError, match="Could not interpret"):
            get(3)
        with pytest.raises(ValueError, match="class_name"):
            deserialize({"config": {}})
        with pytest.raises(ValueError, match="Unknown sampler class"):
            deserialize({"class_name": "Nucleus", "config": {}})
        with pytest.raises(ValueError, match="Sampler"):
            serialize("greedy")

    def test_round_trips(self):
        for sampler in CONFIGURED:
            config = serialize(sampler)
            assert config["class_name"] == type(sampler).__name__
            assert config["registered_name"] == (
                f"keras_nlp_clone>{type(sampler).__name__}"
            )
            config = json.loads(json.dumps(config))
            for restored in (
                deserialize(config),
                get(config),
                keras.saving.deserialize_keras_object(config),
            ):
                assert type(restored) is type(sampler)
                assert restored.get_config() == sampler.get_config()

    def test_short_name_dicts_and_custom_objects(self):
        sampler = deserialize({"class_name": "top_p", "config": {"p": 0.5}})
        assert type(sampler) is samplers.TopPSampler
        assert sampler.p == 0.5
        custom = deserialize(
            {"class_name": "CustomSampler", "config": {"temperature": 3.0}},
            custom_objects={"CustomSampler": CustomSampler},
        )
        assert type(custom) is CustomSampler
        assert custom.temperature == 3.0
        assert type(deserialize("mine", {"mine": CustomSampler})) is (
            CustomSampler
        )
