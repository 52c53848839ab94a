package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.metrics.ProgressiveMetrics;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.serving.Scorer;
import java.util.List;

/**
 * A snapshot measured on labelled events it has not learned from: each event scored exactly as
 * serving scores it (a {@link Scorer} of the snapshot), the probabilities measured against the
 * event's labels (AUC, Multi-AUC, log-loss, calibration per task, over all events scored).
 */
final class SnapshotEvaluation {
    /** Events per call to the scorer (each call has a fixed cost; docs/performance.md, "Serving"). */
    static final int BATCH = 1024;

    private final Scorer scorer;
    private final List<String> labels;
    private final ProgressiveMetrics metrics;

    /** @param labels the events' label names, one per task of the snapshot, in its task order */
    SnapshotEvaluation(Scorer scorer, List<String> labels) {
        if (labels.size() != scorer.tasks().size()) {
            throw new IllegalArgumentException(labels.size() + " label columns " + labels + " for a snapshot of " + scorer.tasks().size()
                    + " tasks " + scorer.tasks());
        }
        this.scorer = scorer;
        this.labels = List.copyOf(labels);
        // the metrics' window is not read: every number here covers all events scored
        this.metrics = new ProgressiveMetrics(scorer.tasks(), 10_000);
    }

    /** The snapshot's metrics on {@code events}, scored in batches. */
    static List<TaskScore> of(ModelSnapshot snapshot, List<FeedbackEvent> events, List<String> labels) {
        SnapshotEvaluation e = new SnapshotEvaluation(Scorer.of(snapshot), labels);
        for (int from = 0; from < events.size(); from += BATCH) {
            e.score(events.subList(from, Math.min(events.size(), from + BATCH)));
        }
        return e.scores();
    }

    /** Scores a batch of events and records them; returns their probabilities [event][task]. */
    double[][] score(List<FeedbackEvent> events) {
        if (events.isEmpty()) {
            return new double[0][];
        }
        double[][] p = scorer.score(events);
        for (int i = 0; i < events.size(); i++) {
            int[] y = new int[labels.size()];
            for (int k = 0; k < y.length; k++) {
                y[k] = events.get(i).getLabels().get(labels.get(k));
            }
            metrics.record(LabelOrder.permutation(y), p[i]);
        }
        return p;
    }

    long scored() {
        return metrics.recorded();
    }

    List<TaskScore> scores() {
        return metrics.scores();
    }
}
