package io.crossdistil.job.io;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.metrics.RecentMean;
import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * The decoder's metrics: events decoded, dead letters, and per dense field (group {@code dense},
 * {@code <field>}) the decoded events that lacked it, {@code missingValues}, which against
 * {@code eventsDecoded} shows a producer that stopped sending a field, and the mean of its recent
 * values, {@code recentMean}, which shows one that changed its unit.
 */
final class DecodeMetrics {
    /** Values over which a dense field's recent mean forgets an earlier one by 1/e. */
    static final int RECENT_VALUES = 10_000;

    private final Counter decoded;
    private final Counter deadLetters;
    private final Counter[] missing;
    private final RecentMean[] recent;

    DecodeMetrics(MetricGroup group, List<String> denseFields) {
        decoded = group.counter("eventsDecoded");
        deadLetters = group.counter("deadLetters");
        missing = new Counter[denseFields.size()];
        recent = new RecentMean[denseFields.size()];
        for (int j = 0; j < missing.length; j++) {
            MetricGroup field = group.addGroup("dense", denseFields.get(j));
            missing[j] = field.counter("missingValues");
            RecentMean mean = new RecentMean(RECENT_VALUES);
            recent[j] = mean;
            field.gauge("recentMean", mean::mean);
        }
    }

    void decoded(Example e) {
        decoded.inc();
        for (int j = 0; j < missing.length; j++) {
            if (Float.isNaN(e.dense[j])) {
                missing[j].inc();
            } else {
                recent[j].add(e.dense[j]);
            }
        }
    }

    void deadLetter() {
        deadLetters.inc();
    }
}
