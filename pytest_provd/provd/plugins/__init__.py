"""Plugins as provd runs them: loading (:mod:`.loader`), installing (:mod:`.install`), the
manager (:mod:`.manager`), raw configs, the twisted bridge and the compatibility survey."""
