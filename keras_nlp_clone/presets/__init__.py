"""The preset system: handles, the registry, preset files, loading, saving
and conversion to and from other formats (Hugging Face, KerasHub).

Models use this package; it never imports a model family by name (families
register their presets and converters on import).
"""
