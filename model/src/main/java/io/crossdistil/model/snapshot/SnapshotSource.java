package io.crossdistil.model.snapshot;

import java.io.IOException;

/**
 * Where snapshots are read from beyond the local file system: a location with a URI scheme
 * ({@code s3://bucket/snapshots}) is read by the first source on the class path, found as a Java
 * service ({@code META-INF/services}), that reads it; the Flink job provides one for every file
 * system Flink has. {@link SnapshotFiles} lays out the directory the same way on each.
 */
public interface SnapshotSource {
    /** True when this source reads {@code location}. */
    boolean reads(String location);

    /** True when {@code location} is a directory (then SnapshotFiles reads its latest snapshot). */
    boolean isDirectory(String location) throws IOException;

    /** Every byte of the file at {@code location}; a missing file is a {@link java.io.FileNotFoundException}. */
    byte[] readAll(String location) throws IOException;
}
