"""The bounds on what the loaders read: refused before anything is decompressed or allocated.

The loaders read these at each call, as ``_limits.NAME``, and ``xpnet.data``
forwards an assignment (``xpnet.data.MAX_NPZ_BYTES = 2**40``) here: raising a
limit for one program is one line, and monkeypatching it in a test works.
"""

#: The most bytes a .npz file may expand to (all members together, uncompressed),
#: unless ``load_npz(..., max_bytes=)`` says otherwise: a zip bomb is refused
#: before anything is decompressed.
MAX_NPZ_BYTES = 8 * 2**30
#: The highest compression ratio (uncompressed / compressed) of an .npz member
#: larger than :data:`NPZ_RATIO_MIN_BYTES`.
MAX_NPZ_RATIO = 1000
NPZ_RATIO_MIN_BYTES = 4 * 2**20
#: Bytes of an .npz member's data read at a time: X is converted chunk by chunk
#: into its destination, so no full-size copy of it in the file's dtype exists.
#: IDX files are read in pieces of this size too.
NPZ_CHUNK_BYTES = 2**20
#: The most bytes the arrays of one cat h5 file may hold (HDF5 compresses too).
MAX_H5_BYTES = 8 * 2**30
#: The most pixels (width × height) of one image in an image folder: larger
#: ones are refused as possible decompression bombs, before they are decoded.
#: At most Pillow's default (2**30 bytes of RGBA / 4 / 3): Pillow warns of a bomb past
#: its own limit, so an image within this one never makes it warn.
MAX_IMAGE_PIXELS = 89_478_485
#: The most bytes the four IDX files of a folder may declare (their data, uncompressed),
#: unless ``load_idx(..., max_bytes=)`` says otherwise: checked before anything is read.
MAX_IDX_BYTES = 8 * 2**30

#: The most classes a data set may have: a label of this or more (1e300, a uint64 that
#: was -1) is refused as no class id, before anything is made for that many classes.
MAX_CLASSES = 1_000_000

#: The names above, which ``xpnet.data`` exposes and forwards assignments of.
NAMES = ("MAX_NPZ_BYTES", "MAX_NPZ_RATIO", "NPZ_RATIO_MIN_BYTES", "NPZ_CHUNK_BYTES", "MAX_H5_BYTES",
         "MAX_IMAGE_PIXELS", "MAX_IDX_BYTES", "MAX_CLASSES")
