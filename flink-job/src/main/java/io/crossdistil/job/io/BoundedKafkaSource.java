package io.crossdistil.job.io;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;

/**
 * A bounded {@link KafkaSource} that also ends after a restore. The connector's enumerator,
 * restored from a checkpoint (after a failure) or a savepoint, finds in its one partition
 * discovery every partition assigned already and returns before it marks that no more splits will
 * come; its readers reach their stopping offsets and then wait for that signal forever, and the job
 * never ends (FLINK-31006, open in connector 5.0.0). Here a restored enumerator's discovery is
 * watched: when it starts nothing further (no new partition to initialise), the connector will not
 * signal, so this class does, to each reader after its splits, as the connector does on a fresh
 * start. A fresh start, and a discovery that finds new partitions, are the connector's own.
 *
 * <p>State and serializers are the connector's, so checkpoints and savepoints are the same as with
 * a plain {@link KafkaSource}. Drop this class when the connector signals after a restore.
 */
public final class BoundedKafkaSource<T> implements Source<T, KafkaPartitionSplit, KafkaSourceEnumState>, ResultTypeQueryable<T> {
    private final KafkaSource<T> kafka;

    public BoundedKafkaSource(KafkaSource<T> kafka) {
        if (kafka.getBoundedness() != Boundedness.BOUNDED) {
            throw new IllegalArgumentException("BoundedKafkaSource wraps a bounded KafkaSource (KafkaSourceBuilder.setBounded)");
        }
        this.kafka = kafka;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<T, KafkaPartitionSplit> createReader(SourceReaderContext context) throws Exception {
        return kafka.createReader(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(SplitEnumeratorContext<KafkaPartitionSplit> context)
            throws Exception {
        return kafka.createEnumerator(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(SplitEnumeratorContext<KafkaPartitionSplit> context,
            KafkaSourceEnumState state) throws Exception {
        // the connector's enumerator is made with the watched context, which calls back into ours
        EndSignallingEnumerator enumerator = new EndSignallingEnumerator(context);
        enumerator.kafka = kafka.restoreEnumerator(enumerator.watched, state);
        return enumerator;
    }

    @Override
    public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
        return kafka.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
        return kafka.getEnumeratorCheckpointSerializer();
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return kafka.getProducedType();
    }

    /**
     * The connector's restored enumerator, which signals the end itself once its discovery has
     * added nothing. Everything runs on the source coordinator's thread.
     */
    static final class EndSignallingEnumerator implements SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> {
        private final SplitEnumeratorContext<KafkaPartitionSplit> context;
        final WatchedContext watched;
        SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> kafka;
        /** Set once the discovery added nothing: from then on every reader is told, after its splits, that no more come. */
        private boolean signals;

        EndSignallingEnumerator(SplitEnumeratorContext<KafkaPartitionSplit> context) {
            this.context = context;
            this.watched = new WatchedContext(context, this::nothingDiscovered);
        }

        private void nothingDiscovered() {
            signals = true;
            context.registeredReaders().keySet().forEach(context::signalNoMoreSplits);
        }

        @Override
        public void start() {
            kafka.start();
        }

        @Override
        public void addReader(int subtaskId) {
            kafka.addReader(subtaskId); // assigns the reader's pending splits first
            if (signals) {
                context.signalNoMoreSplits(subtaskId);
            }
        }

        @Override
        public void addSplitsBack(List<KafkaPartitionSplit> splits, int subtaskId) {
            kafka.addSplitsBack(splits, subtaskId); // assigns them at once if the reader is back
            if (signals && context.registeredReaders().containsKey(subtaskId)) {
                context.signalNoMoreSplits(subtaskId);
            }
        }

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {
            kafka.handleSplitRequest(subtaskId, requesterHostname);
        }

        @Override
        public void handleSourceEvent(int subtaskId, SourceEvent event) {
            kafka.handleSourceEvent(subtaskId, event);
        }

        @Override
        public KafkaSourceEnumState snapshotState(long checkpointId) throws Exception {
            return kafka.snapshotState(checkpointId);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            kafka.notifyCheckpointComplete(checkpointId);
        }

        @Override
        public void close() throws IOException {
            kafka.close();
        }
    }

    /**
     * The coordinator's context as the connector's enumerator sees it. Its first asynchronous call
     * is the one partition discovery of a bounded source; when the discovery's handler starts no
     * further call (it found no partition to initialise), {@code nothingDiscovered} runs.
     */
    static final class WatchedContext implements SplitEnumeratorContext<KafkaPartitionSplit> {
        private final SplitEnumeratorContext<KafkaPartitionSplit> context;
        private final Runnable nothingDiscovered;
        private boolean discoveryWatched;
        private long calls;

        WatchedContext(SplitEnumeratorContext<KafkaPartitionSplit> context, Runnable nothingDiscovered) {
            this.context = context;
            this.nothingDiscovered = nothingDiscovered;
        }

        @Override
        public <R> void callAsync(Callable<R> callable, BiConsumer<R, Throwable> handler) {
            calls++;
            if (discoveryWatched) {
                context.callAsync(callable, handler);
                return;
            }
            discoveryWatched = true;
            context.callAsync(callable, (result, error) -> {
                long before = calls;
                handler.accept(result, error); // throws on an error
                if (calls == before) {
                    nothingDiscovered.run();
                }
            });
        }

        @Override
        public <R> void callAsync(Callable<R> callable, BiConsumer<R, Throwable> handler, long initialDelay, long period) {
            calls++;
            // periodic discovery: the source is not bounded after all, or the connector changed; leave it alone
            discoveryWatched = true;
            context.callAsync(callable, handler, initialDelay, period);
        }

        @Override
        public SplitEnumeratorMetricGroup metricGroup() {
            return context.metricGroup();
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, SourceEvent event) {
            context.sendEventToSourceReader(subtaskId, event);
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, int attemptNumber, SourceEvent event) {
            context.sendEventToSourceReader(subtaskId, attemptNumber, event);
        }

        @Override
        public int currentParallelism() {
            return context.currentParallelism();
        }

        @Override
        public Map<Integer, ReaderInfo> registeredReaders() {
            return context.registeredReaders();
        }

        @Override
        public Map<Integer, Map<Integer, ReaderInfo>> registeredReadersOfAttempts() {
            return context.registeredReadersOfAttempts();
        }

        @Override
        public void assignSplits(SplitsAssignment<KafkaPartitionSplit> assignment) {
            context.assignSplits(assignment);
        }

        @Override
        public void assignSplit(KafkaPartitionSplit split, int subtaskId) {
            context.assignSplit(split, subtaskId);
        }

        @Override
        public void signalNoMoreSplits(int subtaskId) {
            context.signalNoMoreSplits(subtaskId);
        }

        @Override
        public void runInCoordinatorThread(Runnable runnable) {
            context.runInCoordinatorThread(runnable);
        }

        @Override
        public void setIsProcessingBacklog(boolean isProcessingBacklog) {
            context.setIsProcessingBacklog(isProcessingBacklog);
        }
    }
}
