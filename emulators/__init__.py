"""Emulated phones and the DHCP wire, for testing provd plugins over real sockets."""
