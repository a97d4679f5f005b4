"""TFTP service interfaces used by plugins."""

from wazo_provd.servers.tftp.service import (
    TFTPFileService,
    TFTPHookService,
    TFTPNullService,
    TFTPRequest,
    TFTPStringService,
)

__all__ = [
    "TFTPFileService",
    "TFTPHookService",
    "TFTPNullService",
    "TFTPRequest",
    "TFTPStringService",
]
