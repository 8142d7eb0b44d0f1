#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora (valid small files) and the
regression corpora (inputs that broke or strained the readers), each input
prefixed with the mode byte that tests/fuzz/fuzz_input.hpp reads.

    tests/fuzz/make_corpus.py        rewrites tests/fuzz/corpus and tests/fuzz/regression
Needs NumPy (the npz/npy seeds are NumPy's own files)."""
import gzip
import io
import os
import struct
import zipfile
import zlib

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def write(kind, target, name, mode, body):
    folder = os.path.join(here, kind, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(bytes([mode]) + body)


def npy(array):
    b = io.BytesIO()
    np.save(b, array)
    return b.getvalue()


def npz(compressed, **arrays):
    b = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(b, **arrays)
    return b.getvalue()


def npy_with_header(header, data=b""):
    """An npy v1.0 file with `header` (a str) as its header, as is."""
    h = header.encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data


def zip_stored(name, data):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return b.getvalue()


def zip_claiming(name, compressed, claimed_size):
    """A one-entry ZIP whose deflated entry claims to inflate to claimed_size bytes."""
    crc = 0
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(compressed), claimed_size,
                        len(name), 0) + name + compressed
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(compressed),
                          claimed_size, len(name), 0, 0, 0, 0, 0, 0) + name
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + eocd


def idx(dims, data):
    return struct.pack(">I", 0x800 | len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def record(kind, name, value):
    n = name.encode()
    return bytes([kind]) + struct.pack("<I", len(n)) + n + value


def setting(name, text):
    t = text.encode()
    return record(1, name, struct.pack("<I", len(t)) + t)


def tensor(name, element_size, count, data):
    return record(4, name, bytes([element_size]) + struct.pack("<Q", count) + data)


def checkpoint_file(payload):
    h = 1469598103934665603
    for byte in payload:
        h = ((h ^ byte) * 1099511628211) % 2**64
    return b"CURVCKPT" + struct.pack("<IQ", 1, len(payload)) + payload + struct.pack("<Q", h)


rng = np.random.default_rng(0)
w = rng.standard_normal((2, 3)).astype(np.float32)
b = rng.standard_normal(3)

# ---- seeds: valid files
write("corpus", "npz", "savez", 0, npz(False, **{"fc1.weight": w, "fc1.bias": b}))
write("corpus", "npz", "savez_compressed", 0, npz(True, **{"fc1.weight": w, "fc1.bias": b}))
write("corpus", "npz", "npy_f4", 1, npy(w))
write("corpus", "npz", "npy_f8_scalar", 1, npy(np.float64(2.5)))
write("corpus", "npz", "npy_empty", 1, npy(np.zeros((0, 4), np.float32)))
write("corpus", "npz", "stored_npy", 2, npy(b))
write("corpus", "npz", "deflated_npy", 3, npy(w.astype(np.float64)))

images = idx([2, 3, 3], range(18))
labels = idx([5], [3, 0, 9, 1, 7])
write("corpus", "idx", "images", 0, images)
write("corpus", "idx", "labels", 4, labels)
write("corpus", "idx", "images_gz", 1, images)
write("corpus", "idx", "labels_gz", 5, labels)
write("corpus", "idx", "images_gzip_file", 0, gzip.compress(images, mtime=0))
write("corpus", "idx", "images_no_data", 0, idx([0, 28, 28], []))

payload = (setting("dataset", "mnist") + record(2, "lambda", struct.pack("<d", 1e-6)) +
           record(3, "iteration", struct.pack("<Q", 7)) + tensor("w", 8, 3, struct.pack("<3d", 1, 2, 3)) +
           tensor("p", 4, 2, struct.pack("<2f", 1, 2)))
write("corpus", "checkpoint", "payload", 1, payload)
write("corpus", "checkpoint", "file", 0, checkpoint_file(payload))

# ---- regression: the inputs that broke or strained the readers
# An npy header that ends after "'descr':" made header_field index at npos
# (heap-buffer-overflow under AddressSanitizer), in an .npz of 193 bytes.
oob = npy_with_header("{'descr':" + " " * 30 + "\n")
write("regression", "npz", "header_field_npos", 0, zip_stored("a.npy", oob))
write("regression", "npz", "header_field_npos_npy", 1, oob)
write("regression", "npz", "header_unclosed_tuple", 1,
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, \n"))
# A 140-byte .npz whose deflated entry claims 4 GiB: the reader allocated it first.
write("regression", "npz", "claims_4GiB", 0, zip_claiming(b"a.npy", zlib.compress(b"x" * 10)[2:-4], 0xFFFFFFFE))
# Shapes whose byte count overflows: bad_array_new_length / bad_alloc.
write("regression", "npz", "shape_2_62", 1,
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }\n"))
write("regression", "npz", "shape_2_32_by_2_29", 1,
      npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 536870912), }\n"))
# A negative dimension was read as positive.
write("regression", "npz", "shape_negative", 1,
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", b"\0" * 4))
write("regression", "npz", "header_too_long", 1, b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 30) + b"{")

# IDX: a header claiming far more than the file (plain) or than deflate can hold (gzip).
write("regression", "idx", "claims_2GiB_plain", 0, idx([32768, 256, 256], range(16)))
write("regression", "idx", "claims_too_much_gz", 1, idx([60000, 2048, 2048], range(16)))
# A zeros gzip bomb (1 MiB into ~1 KiB), and one with a valid header and more data than it claims.
write("regression", "idx", "zeros_bomb", 0, gzip.compress(bytes(1 << 20), 9, mtime=0))
write("regression", "idx", "bomb_after_header", 0,
      gzip.compress(idx([1, 2, 2], range(4)) + bytes(1 << 20), 9, mtime=0))
# Trailing garbage and a second member after a valid gzip stream.
write("regression", "idx", "gz_trailing_garbage", 0, gzip.compress(images, mtime=0) + b"garbage")
write("regression", "idx", "gz_second_member", 0, gzip.compress(images, mtime=0) + gzip.compress(b"x", mtime=0))

# Checkpoint: sizes that overflow or exceed the file, a duplicate record, a bad element size.
write("regression", "checkpoint", "tensor_count_overflow", 1, tensor("w", 8, 2**61 + 1, b"\0" * 8))
write("regression", "checkpoint", "tensor_count_huge", 1, tensor("w", 4, 2**40, b""))
write("regression", "checkpoint", "name_length_huge", 1, bytes([3]) + struct.pack("<I", 0xFFFFFFFF) + b"iteration")
write("regression", "checkpoint", "duplicate_record", 1,
      record(3, "iteration", struct.pack("<Q", 1)) + record(3, "iteration", struct.pack("<Q", 2**64 - 1)))
write("regression", "checkpoint", "element_size_3", 1, tensor("w", 3, 1, b"\0\0\0"))
write("regression", "checkpoint", "payload_size_huge", 0, b"CURVCKPT" + struct.pack("<IQ", 1, 2**63) + b"\0" * 8)
