package io.crossdistil.cluster;

import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import io.crossdistil.serving.SnapshotFollower;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Reads snapshots the way a serving fleet does, all through a run: the snapshot directory (its
 * latest pointer and every file) polled in a loop, and the snapshot topic followed by the serving
 * module's {@link SnapshotFollower}. Counts what it read and what failed its checksum.
 */
final class SnapshotWatcher implements AutoCloseable {
    private final Path dir;
    private final SnapshotFollower follower;
    private final Thread poller;
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong corrupt = new AtomicLong();
    private volatile boolean running = true;

    SnapshotWatcher(Path dir, String bootstrapServers, String topic) {
        this.dir = dir;
        this.follower = new SnapshotFollower(bootstrapServers, topic, Map.of());
        this.poller = new Thread(this::pollDirectory, "snapshot-directory-watcher");
        poller.setDaemon(true);
        poller.start();
    }

    private void pollDirectory() {
        while (running) {
            if (Files.exists(dir.resolve(SnapshotFiles.LATEST))) {
                read(dir);
                try (Stream<Path> files = Files.list(dir)) {
                    List<Path> snapshots = files.filter(f -> SnapshotFiles.isSnapshotFile(f.getFileName().toString())).toList();
                    snapshots.forEach(this::read);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void read(Path path) {
        try {
            SnapshotFiles.read(path);
            reads.incrementAndGet();
        } catch (NoSuchFileException deletedByRetention) {
            // the writer keeps the newest few files; an older one may go between listing and reading
        } catch (SnapshotCodec.CorruptSnapshotException e) {
            corrupt.incrementAndGet();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Intact snapshots read from the directory. */
    long directoryReads() {
        return reads.get();
    }

    /** Snapshots read from the directory that failed their checksum. */
    long directoryCorrupt() {
        return corrupt.get();
    }

    /** Records on the topic that failed their checksum. */
    long topicCorrupt() {
        return follower.rejected();
    }

    /** The newest version the topic follower holds, or -1. */
    long topicVersion() {
        return follower.current().map(s -> s.version()).orElse(-1L);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        poller.interrupt();
        poller.join(10_000);
        follower.close();
    }
}
