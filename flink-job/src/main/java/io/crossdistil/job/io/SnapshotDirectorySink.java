package io.crossdistil.job.io;

import io.crossdistil.model.snapshot.SnapshotFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Writes each snapshot to a directory on any Flink file system in the layout of
 * {@link SnapshotFiles}, then points the {@code latest} file at it. Both are written under a temporary name and renamed,
 * so a reader sees a whole snapshot or none (renames are atomic on local and HDFS file systems).
 * After a recovery the trainer re-emits a version with the same content, so rewriting is harmless.
 */
public final class SnapshotDirectorySink implements Sink<SnapshotMessage> {
    private static final long serialVersionUID = 1L;

    private final String directory;
    private final int retain;

    public SnapshotDirectorySink(String directory, int retain) {
        this.directory = directory;
        this.retain = retain;
    }

    @Override
    public SinkWriter<SnapshotMessage> createWriter(WriterInitContext context) throws IOException {
        Path dir = new Path(directory);
        FileSystem fs = dir.getFileSystem();
        fs.mkdirs(dir);
        return new Writer(fs, dir, retain);
    }

    private static final class Writer implements SinkWriter<SnapshotMessage> {
        private final FileSystem fs;
        private final Path dir;
        private final int retain;

        Writer(FileSystem fs, Path dir, int retain) {
            this.fs = fs;
            this.dir = dir;
            this.retain = retain;
        }

        @Override
        public void write(SnapshotMessage s, Context context) throws IOException {
            String name = SnapshotFiles.fileName(s.version);
            writeAtomically(new Path(dir, name), s.bytes);
            writeAtomically(new Path(dir, SnapshotFiles.LATEST), (name + "\n").getBytes(StandardCharsets.UTF_8));
            prune();
        }

        private void writeAtomically(Path target, byte[] bytes) throws IOException {
            Path tmp = new Path(dir, "." + target.getName() + ".inprogress");
            try (OutputStream out = fs.create(tmp, FileSystem.WriteMode.OVERWRITE)) {
                out.write(bytes);
            }
            if (!fs.rename(tmp, target)) {
                throw new IOException("could not rename " + tmp + " to " + target);
            }
        }

        private void prune() throws IOException {
            FileStatus[] all = fs.listStatus(dir);
            if (all == null) {
                return;
            }
            List<String> names = new ArrayList<>();
            for (FileStatus f : all) {
                if (SnapshotFiles.isSnapshotFile(f.getPath().getName())) {
                    names.add(f.getPath().getName());
                }
            }
            names.sort(null);
            for (int i = 0; i < names.size() - retain; i++) {
                fs.delete(new Path(dir, names.get(i)), false);
            }
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
    }
}
