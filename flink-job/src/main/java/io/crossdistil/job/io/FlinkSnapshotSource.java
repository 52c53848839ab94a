package io.crossdistil.job.io;

import io.crossdistil.model.snapshot.SnapshotSource;
import java.io.IOException;
import java.io.InputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Snapshots of earlier runs (warm start, frozen teachers) read from any file system Flink has,
 * S3 and HDFS included, at a location with a URI scheme: the file systems the job writes its
 * snapshots to (SnapshotDirectorySink). Found by the model as a Java service.
 */
public final class FlinkSnapshotSource implements SnapshotSource {
    @Override
    public boolean reads(String location) {
        try {
            return new Path(location).toUri().getScheme() != null;
        } catch (IllegalArgumentException notAPath) {
            return false;
        }
    }

    @Override
    public boolean isDirectory(String location) throws IOException {
        Path p = new Path(location);
        return p.getFileSystem().getFileStatus(p).isDir();
    }

    @Override
    public byte[] readAll(String location) throws IOException {
        Path p = new Path(location);
        try (InputStream in = p.getFileSystem().open(p)) {
            return in.readAllBytes();
        }
    }
}
