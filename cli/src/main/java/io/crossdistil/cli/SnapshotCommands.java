package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.TaskMetrics;
import io.crossdistil.avro.Tensor;
import io.crossdistil.model.DenseStatistics;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import io.crossdistil.serving.Scorer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** {@code snapshot show PATH} and {@code snapshot score PATH --csv FILE --labels a,b [--predictions OUT]}. */
final class SnapshotCommands {
    private SnapshotCommands() {}

    static void run(String[] args, PrintStream out) throws IOException {
        if (args.length < 2 || !List.of("show", "score").contains(args[0])) {
            throw new IllegalArgumentException("use 'snapshot show PATH' or 'snapshot score PATH --csv FILE --labels a,b'");
        }
        Path path = Path.of(args[1]);
        Args a = new Args(java.util.Arrays.copyOfRange(args, 2, args.length));
        ModelSnapshot s = SnapshotFiles.read(path);
        if (args[0].equals("show")) {
            a.requireEmpty("snapshot show");
            show(s, out);
        } else {
            score(s, a, out);
        }
    }

    static void show(ModelSnapshot s, PrintStream out) {
        long params = 0;
        for (Tensor t : s.getTensors()) {
            params += t.getShape().stream().mapToLong(Integer::longValue).reduce(1, (x, y) -> x * y);
        }
        out.printf("version          %d%n", s.getVersion());
        out.printf("created          %s%n", Instant.ofEpochMilli(s.getCreatedAt()));
        out.printf("events trained   %,d%n", s.getEventsTrained());
        out.printf("last event time  %s%n", Instant.ofEpochMilli(s.getLastEventTime()));
        out.printf("tensors          %d, %,d parameters%n", s.getTensors().size(), params);
        out.printf("checksum         %s (verified)%n", s.getChecksum());
        Map<String, String> options = new TreeMap<>(s.getConfig());
        options.remove(ModelConfig.TRAINING_OPTIONS);
        Set<String> training = ModelConfig.trainingOptions(s.getConfig());
        out.println("configuration: what the model is");
        options.forEach((k, v) -> {
            if (!training.contains(k)) {
                out.printf("  %-32s %s%n", k, v);
            }
        });
        if (!training.isEmpty()) {
            out.println("training options: how it learned (a reader that only scores ignores them)");
            options.forEach((k, v) -> {
                if (training.contains(k)) {
                    out.printf("  %-32s %s%n", k, v);
                }
            });
        }
        List<DenseStatistics> dense = SnapshotCodec.toStudentModel(s).denseStatistics();
        if (!dense.isEmpty()) {
            out.println("dense inputs (the mean and sd the model scales them with, after dense-scaling's transform; trained events that lacked them)");
            for (DenseStatistics d : dense) {
                out.printf(Locale.ROOT, "  %-26s mean %.6g   sd %.6g   missing %,d of %,d (%.1f%%)%n", d.field(), d.mean(), d.sd(),
                        d.missing(), d.values() + d.missing(), 100 * d.missingShare());
            }
        }
        out.println("progressive metrics (since start | last window)");
        for (TaskMetrics m : s.getMetrics()) {
            out.printf(Locale.ROOT, "  %-10s AUC %.4f | %.4f   Multi-AUC %.4f | %.4f   log-loss %.4f   calibration %.3f   positives %,d of %,d%n",
                    m.getTask(), m.getAuc(), m.getWindowAuc(), m.getMultiAuc(), m.getWindowMultiAuc(), m.getLogloss(),
                    m.getCalibration(), m.getPositives(), m.getEvents());
        }
    }

    static List<TaskScore> score(ModelSnapshot s, Args a, PrintStream out) throws IOException {
        String csv = a.take("csv", null);
        List<String> labels = a.takeList("labels");
        List<String> named = a.takeList("features");
        String time = a.take("time", null);
        String predictions = a.take("predictions", null);
        a.requireEmpty("snapshot score");
        Scorer scorer = Scorer.of(s);
        if (csv == null || labels.size() != scorer.tasks().size()) {
            throw new IllegalArgumentException("snapshot score needs --csv FILE and --labels with one label column per task of the"
                    + " snapshot, in its task order " + scorer.tasks());
        }
        SnapshotEvaluation evaluation = new SnapshotEvaluation(scorer, labels);
        // the snapshot's own features and dense features, as its model reads them (a column may be both)
        List<String> features = named.isEmpty() ? scorer.config().features : named;
        long rejected = 0;
        String firstReason = null;
        try (CsvEvents rows = new CsvEvents(Path.of(csv), labels, features, scorer.config().denseFeatures, time);
                Writer written = predictions == null ? Writer.nullWriter() : Files.newBufferedWriter(Path.of(predictions))) {
            if (predictions != null) {
                written.write("line," + String.join(",", labels) + "\n");
            }
            List<CsvEvents.Row> batch = new ArrayList<>(SnapshotEvaluation.BATCH);
            for (CsvEvents.Row row = rows.next(); row != null; row = rows.next()) {
                if (row.event() == null) {
                    rejected++;
                    firstReason = firstReason == null ? row.error() : firstReason;
                    continue;
                }
                batch.add(row);
                if (batch.size() == SnapshotEvaluation.BATCH) {
                    score(evaluation, batch, written);
                }
            }
            score(evaluation, batch, written);
        }
        out.printf("snapshot version %d scored %,d rows of %s (label columns %s as tasks %s)%n", s.getVersion(), evaluation.scored(),
                csv, labels, scorer.tasks());
        if (rejected > 0) {
            out.printf("skipped %,d rows that are not events; the first: %s%n", rejected, firstReason);
        }
        List<TaskScore> scores = evaluation.scores();
        for (TaskScore t : scores) {
            out.printf(Locale.ROOT, "  %-10s AUC %.4f   Multi-AUC %.4f   log-loss %.4f   calibration %.3f%n", t.task(), t.auc(),
                    t.multiAuc(), t.logLoss(), t.calibration());
        }
        if (predictions != null) {
            out.printf("wrote each row's line in %s and its served probability per task to %s%n", csv, predictions);
        }
        return scores;
    }

    /** Scores the batch's rows and writes their predictions (line, then a probability per task). */
    private static void score(SnapshotEvaluation evaluation, List<CsvEvents.Row> batch, Writer written) throws IOException {
        List<FeedbackEvent> events = new ArrayList<>(batch.size());
        for (CsvEvents.Row row : batch) {
            events.add(row.event());
        }
        double[][] p = evaluation.score(events);
        for (int i = 0; i < batch.size(); i++) {
            StringBuilder line = new StringBuilder(Long.toString(batch.get(i).line()));
            for (double probability : p[i]) {
                line.append(',').append(probability);
            }
            written.write(line.append('\n').toString());
        }
        batch.clear();
    }
}
