package io.crossdistil.serving;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads snapshots the trainer wrote to a directory: one file, or the one {@code latest} points at. */
public final class SnapshotStore {
    private SnapshotStore() {}

    /**
     * @param path a snapshot file, or a snapshot directory (then its latest snapshot)
     * @throws SnapshotCodec.CorruptSnapshotException when the bytes fail their checksum
     */
    public static ModelSnapshot read(Path path) throws IOException {
        Path file = path;
        if (Files.isDirectory(path)) {
            Path pointer = path.resolve(SnapshotFiles.LATEST);
            if (!Files.exists(pointer)) {
                throw new IOException(path + " holds no '" + SnapshotFiles.LATEST + "' pointer: not a snapshot directory, or no snapshot yet");
            }
            file = path.resolve(Files.readString(pointer, StandardCharsets.UTF_8).trim());
        }
        return SnapshotCodec.decode(Files.readAllBytes(file));
    }
}
