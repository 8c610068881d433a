-- Vectors are kept at full precision (little-endian 64-bit floats), so the SDKs read back what
-- they sent. `width` is the bytes per element: 8 from now on, 4 for the vectors stored before.
ALTER TABLE record_vectors ADD COLUMN width INTEGER NOT NULL DEFAULT 4;
