#!/usr/bin/env python3
# make_golden.py: writes the small reference files of test_npy and test_safetensors (run once; the outputs
# are committed, so the C tests never need Python). .npy files come from numpy itself; the safetensors file
# from the few lines below, which follow the format's description and use no safetensors package.
import json
import struct

import numpy as np


def npy_files():
    a = (np.arange(6, dtype='<f4') * 0.5 - 1).reshape(2, 3)       # -1.0, -0.5, ..., 1.5
    np.save('f32_2x3.npy', a)
    np.save('f32_1d.npy', np.array([1.5, -2.25, 0.0, 3e-3, 65504.0], dtype='<f4'))
    np.save('f32_scalar.npy', np.array(3.25, dtype='<f4'))
    np.save('f32_empty.npy', np.zeros((0, 3), dtype='<f4'))
    np.save('f32_4d.npy', (np.arange(12, dtype='<f4') / 8).reshape(1, 3, 2, 2))
    # 15 dimensions: long enough that numpy's spare room for growing axis 0 moves the data by 64 bytes
    np.save('f32_15d.npy', np.arange(6, dtype='<f4').reshape(1, 1, 2, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1))
    with open('f32_v2.npy', 'wb') as f:
        np.lib.format.write_array(f, a, version=(2, 0))
    np.save('f64.npy', a.astype('<f8'))
    np.save('i64.npy', np.arange(3, dtype='<i8'))
    np.save('f32_big_endian.npy', a.astype('>f4'))
    np.save('f32_fortran.npy', np.asfortranarray(a.T))


def safetensors_file(path, tensors, metadata):
    """tensors: list of (name, dtype string, numpy array); data laid out in list order."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, dtype, arr in tensors:
        raw = arr.tobytes()                      # arrays are built little-endian ('<f4', '<i8', 'u1')
        header[name] = {'dtype': dtype, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode('utf-8')    # ensure_ascii: non-ASCII metadata becomes \u escapes
    text += b' ' * (-len(text) % 8)              # the data region starts 8-byte aligned
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def safetensors_files():
    w = (np.arange(6, dtype='<f4') * 0.5 - 1).reshape(2, 3, 1, 1)
    safetensors_file('golden.safetensors', [
        ('conv1.weight', 'F32', w),
        ('conv1.bias', 'F32', np.array([0.25, -4.0], dtype='<f4')),
        ('step', 'I64', np.array(1234567890123, dtype='<i8')),
        ('mask', 'U8', np.array([1, 0, 255], dtype='u1')),
        ('empty', 'F32', np.zeros((0, 4), dtype='<f4')),
    ], {'format': 'pt', 'note': 'caf\u00e9 "quoted" back\\slash\nline \U0001F600'})


if __name__ == '__main__':
    npy_files()
    safetensors_files()
