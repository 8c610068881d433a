-- Vectors are kept at full precision (little-endian 64-bit floats); `width` is the bytes per
-- element: 8 from now on, 4 for vectors stored (or copied from SQLite) before.
ALTER TABLE record_vectors ADD COLUMN width BIGINT NOT NULL DEFAULT 4;
