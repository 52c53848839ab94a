package io.crossdistil.model.snapshot;

import io.crossdistil.avro.ModelSnapshot;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How snapshots lie in a directory: {@code snapshot-<version, 20 digits>.avro} per version, and a
 * {@code latest} file holding the name of the newest. The job writes this layout; serving, the
 * commands, frozen teachers and warm starts read it, from the local file system or a
 * {@link SnapshotSource}.
 */
public final class SnapshotFiles {
    public static final String LATEST = "latest";
    private static final String PREFIX = "snapshot-";
    private static final String SUFFIX = ".avro";
    /** A location that starts with a URI scheme. */
    private static final Pattern SCHEME = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*)://");

    /** The local file system. */
    private static final SnapshotSource LOCAL = new SnapshotSource() {
        @Override
        public boolean reads(String location) {
            return true;
        }

        @Override
        public boolean isDirectory(String location) {
            return Files.isDirectory(Path.of(location));
        }

        @Override
        public byte[] readAll(String location) throws IOException {
            return Files.readAllBytes(Path.of(location));
        }
    };

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
        return read(path.toString(), LOCAL);
    }

    /**
     * Reads a snapshot from a location an option names: a local path, or a URI whose scheme a
     * {@link SnapshotSource} on the class path reads (in the job: every file system Flink has).
     *
     * @throws IOException when nothing here reads the location's scheme, or it cannot be read
     */
    public static ModelSnapshot read(String location) throws IOException {
        Matcher scheme = SCHEME.matcher(location);
        if (!scheme.lookingAt()) {
            return read(location, LOCAL);
        }
        for (SnapshotSource source : ServiceLoader.load(SnapshotSource.class)) {
            if (source.reads(location)) {
                return read(location, source);
            }
        }
        throw new IOException("nothing here reads " + scheme.group(1) + ":// locations (the Flink job reads every file system Flink has;"
                + " elsewhere give a local path)");
    }

    private static ModelSnapshot read(String location, SnapshotSource source) throws IOException {
        String file = location;
        if (source.isDirectory(location)) {
            String pointer = child(location, LATEST);
            String latest;
            try {
                latest = new String(source.readAll(pointer), StandardCharsets.UTF_8).trim();
            } catch (FileNotFoundException | NoSuchFileException e) {
                throw new IOException(location + " holds no '" + LATEST + "' pointer: not a snapshot directory, or no snapshot yet", e);
            }
            file = child(location, latest);
        }
        return SnapshotCodec.decode(source.readAll(file));
    }

    private static String child(String directory, String name) {
        return directory.endsWith("/") ? directory + name : directory + "/" + name;
    }
}
