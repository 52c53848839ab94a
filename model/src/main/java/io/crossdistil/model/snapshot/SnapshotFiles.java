package io.crossdistil.model.snapshot;

/**
 * How snapshots lie in a directory: {@code snapshot-<version, 20 digits>.avro} per version, and a
 * {@code latest} file holding the name of the newest. The job writes this layout, serving reads it.
 */
public final class SnapshotFiles {
    public static final String LATEST = "latest";
    private static final String PREFIX = "snapshot-";
    private static final String SUFFIX = ".avro";

    private SnapshotFiles() {}

    public static String fileName(long version) {
        return String.format("%s%020d%s", PREFIX, version, SUFFIX);
    }

    public static boolean isSnapshotFile(String name) {
        return name.startsWith(PREFIX) && name.endsWith(SUFFIX);
    }
}
