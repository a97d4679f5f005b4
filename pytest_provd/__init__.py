"""pytest-provd: test Wazo provd plugins with an embedded provd and emulated phones."""
