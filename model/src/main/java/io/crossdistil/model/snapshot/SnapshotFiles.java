package io.crossdistil.model.snapshot;

import io.crossdistil.avro.ModelSnapshot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How snapshots lie in a directory: {@code snapshot-<version, 20 digits>.avro} per version, and a
 * {@code latest} file holding the name of the newest. The job writes this layout; serving, the
 * commands and frozen teachers read it.
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

    /**
     * Reads a snapshot.
     *
     * @param path a snapshot file, or a snapshot directory (then its latest snapshot)
     * @throws SnapshotCodec.CorruptSnapshotException when the bytes fail their checksum
     */
    public static ModelSnapshot read(Path path) throws IOException {
        Path file = path;
        if (Files.isDirectory(path)) {
            Path pointer = path.resolve(LATEST);
            if (!Files.exists(pointer)) {
                throw new IOException(path + " holds no '" + LATEST + "' pointer: not a snapshot directory, or no snapshot yet");
            }
            file = path.resolve(Files.readString(pointer, StandardCharsets.UTF_8).trim());
        }
        return SnapshotCodec.decode(Files.readAllBytes(file));
    }
}
