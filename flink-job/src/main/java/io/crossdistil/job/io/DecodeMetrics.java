package io.crossdistil.job.io;

import io.crossdistil.model.event.Example;
import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * The decoder's counters: events decoded, dead letters, and per dense field (group
 * {@code dense}, {@code <field>}) the decoded events that lacked it, {@code missingValues}, which
 * against {@code eventsDecoded} shows a producer that stopped sending a field.
 */
final class DecodeMetrics {
    private final Counter decoded;
    private final Counter deadLetters;
    private final Counter[] missing;

    DecodeMetrics(MetricGroup group, List<String> denseFields) {
        decoded = group.counter("eventsDecoded");
        deadLetters = group.counter("deadLetters");
        missing = new Counter[denseFields.size()];
        for (int j = 0; j < missing.length; j++) {
            missing[j] = group.addGroup("dense", denseFields.get(j)).counter("missingValues");
        }
    }

    void decoded(Example e) {
        decoded.inc();
        for (int j = 0; j < missing.length; j++) {
            if (Float.isNaN(e.dense[j])) {
                missing[j].inc();
            }
        }
    }

    void deadLetter() {
        deadLetters.inc();
    }
}
