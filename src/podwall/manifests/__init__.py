"""Reading manifests from files, directories and stdin; the boundary where YAML is parsed."""

from podwall.manifests.reader import Loaded, LoadError, load_paths, load_text

__all__ = ["LoadError", "Loaded", "load_paths", "load_text"]
