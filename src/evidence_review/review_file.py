"""The build's computed review in one signed file, so its notebooks do not each validate, load and
synthesise the whole review again.

Why this format
---------------
The file holds pandas tables that every notebook must see exactly as the build computed them
(same dtypes, same index, same float bits), or the pages would differ from a build in which each
notebook recomputes. Python's pickle keeps all of that and loads in milliseconds, but unpickling a
file can run code, and ``results_path`` is a notebook parameter that a user could point at any
file. So the file is signed, and nothing in it is unpickled before its signature is checked:

- each build draws a new random 256-bit key (:func:`new_key`) and writes the file with an
  HMAC-SHA256 of its contents under that key (:func:`write_signed`);
- the key reaches only the build's own kernels, in the environment variable :data:`KEY_ENV`; it is
  never a notebook parameter, so it is in no notebook or page;
- :func:`read_signed` refuses a file whose signature does not verify with the key it is given
  (another build's file, a file changed by one byte, any file not written this way) and refuses
  every file when there is no key (a notebook opened on its own), before unpickling anything.

The file lives in the build's staging folder and is deleted before the reports are swapped into
place, so it is never part of the reports.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
from pathlib import Path

__all__ = ["KEY_ENV", "ResultsFileError", "new_key", "write_signed", "read_signed"]

#: Environment variable through which the build hands its kernels the key of its results file.
KEY_ENV = "EVIDENCE_REVIEW_RESULTS_KEY"
#: First bytes of every results file: the format and its version.
MAGIC = b"evidence-review signed results v1\n"
_DIGEST_SIZE = hashlib.sha256().digest_size


class ResultsFileError(ValueError):
    """A results file that may not be read: the message says why, in one sentence."""


def new_key() -> str:
    """A fresh random key for one build's results file.

    Returns
    -------
    str
        64 hexadecimal digits (256 bits from :mod:`secrets`).
    """
    return secrets.token_hex(32)


def _signature(key: str, payload: bytes) -> bytes:
    return hmac.new(bytes.fromhex(key), payload, hashlib.sha256).digest()


def write_signed(value, path: str | os.PathLike, key: str) -> Path:
    """Pickle ``value`` into ``path``, signed with ``key``; the file appears complete or not at all.

    Parameters
    ----------
    value : object
        Anything picklable (the build writes a dict of its computed review).
    path : str or os.PathLike
    key : str
        From :func:`new_key`.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(MAGIC + _signature(key, payload) + payload)
    os.replace(tmp, path)
    return path


def read_signed(path: str | os.PathLike, key: str | None):
    """Read back what :func:`write_signed` wrote with the same key; unpickle nothing else.

    Parameters
    ----------
    path : str or os.PathLike
    key : str or None
        The build's key (None or empty: no build is running, so no file may be read).

    Returns
    -------
    object
        The value written.

    Raises
    ------
    ResultsFileError
        No key; a file that cannot be read; a file that is not a signed results file; a signature
        that does not match (another build's file, or a changed one).
    """
    if not key:
        raise ResultsFileError(f"a results file is only read by the build that wrote it (no key in {KEY_ENV})")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ResultsFileError(f"cannot read the results file: {exc.strerror or exc}") from None
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _DIGEST_SIZE:
        raise ResultsFileError("not a results file written by the build")
    signature = data[len(MAGIC):len(MAGIC) + _DIGEST_SIZE]
    payload = data[len(MAGIC) + _DIGEST_SIZE:]
    try:
        expected = _signature(key, payload)
    except ValueError:
        raise ResultsFileError(f"the key in {KEY_ENV} is not a key the build made") from None
    if not hmac.compare_digest(signature, expected):
        raise ResultsFileError("the results file was not written by this build (its signature does not match)")
    return pickle.loads(payload)
