"""Which vendor files a process reads: the shipped ones, the checkout's
``plugins/`` folder, and the folders of ``--plugins DIR`` / ``[vendors] dirs``.

Both roles use it: the SP to build its HTTP channels, the ismg-sim to play
every vendor.  A broken file, an unreadable folder or two files naming one
vendor stop the process at start with the file, line and element.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from smsgw.vendor.description import Description
from smsgw.vendor.loader import VendorFileError, builtin_dir, load_dirs

__all__ = ["checkout_plugins", "load_vendors", "vendor_folders"]


def checkout_plugins() -> Path | None:
    """The top-level ``plugins/`` folder when smsgw runs from a checkout, else None."""
    root = Path(__file__).resolve().parents[2]
    folder = root / "plugins"
    if (root / "setup.cfg").is_file() and folder.is_dir():
        return folder
    return None


def vendor_folders(dirs: Iterable[str] = ()) -> list[Path]:
    """The folders read, in order: shipped, the checkout's ``plugins/``, then *dirs*."""
    folders = [builtin_dir()]
    checkout = checkout_plugins()
    if checkout is not None:
        folders.append(checkout)
    folders.extend(Path(d) for d in dirs)
    return folders


def load_vendors(dirs: Iterable[str] = ()) -> dict[str, Description]:
    """Every vendor description, by name (see :func:`vendor_folders`).

    :raises VendorFileError: for a folder that is not one, a broken file, or a
        vendor defined twice.
    """
    folders = vendor_folders(dirs)
    for folder in folders:
        if not folder.is_dir():
            raise VendorFileError(str(folder), 0, "", "not a folder of vendor files")
    return load_dirs(folders)
