package io.crossdistil.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.crossdistil.cli.ExperimentRunner.CurvePoint;
import io.crossdistil.cli.ExperimentRunner.Exchange;
import io.crossdistil.cli.ExperimentRunner.GateSummary;
import io.crossdistil.cli.ExperimentRunner.Setup;
import io.crossdistil.cli.ExperimentRunner.VariantResult;
import io.crossdistil.model.metrics.Reliability;
import io.crossdistil.model.metrics.TaskScore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * An experiment's report, written to its folder: results.md (the tables), results.json (every
 * number, the learning curves and reliability tables), and the PNG learning curves and
 * reliability diagrams (docs/results/README.md says what each holds).
 */
final class ExperimentReport {
    private ExperimentReport() {}


    public static void write(Path dir, Setup setup, List<VariantResult> results) throws IOException {
        Files.createDirectories(dir);
        writeJson(dir.resolve("results.json"), setup, results);
        Files.writeString(dir.resolve("results.md"), markdown(setup, results));
        if (results.stream().anyMatch(r -> !r.curve().isEmpty())) {
            for (int k = 0; k < setup.tasks().size(); k++) {
                int task = k;
                Charts.learningCurves(dir.resolve("auc-" + setup.tasks().get(k) + ".png"),
                        "Progressive AUC, " + setup.tasks().get(k) + " (window)", "AUC", results, p -> p.auc()[task]);
                Charts.learningCurves(dir.resolve("multi-auc-" + setup.tasks().get(k) + ".png"),
                        "Progressive Multi-AUC, " + setup.tasks().get(k) + " (window)", "Multi-AUC", results, p -> p.multiAuc()[task]);
            }
        }
        if (results.stream().anyMatch(r -> r.reliability() != null)) {
            for (int k = 0; k < setup.tasks().size(); k++) {
                Charts.reliability(dir.resolve("reliability-" + setup.tasks().get(k) + ".png"),
                        "Reliability of the served probability, " + setup.tasks().get(k) + " (since the start)", results, k);
            }
        }
    }

    private static void writeJson(Path file, Setup setup, List<VariantResult> results) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("command", setup.command());
        json.put("data", setup.data());
        json.put("events", setup.events());
        json.put("held_out_events", setup.heldOut());
        json.put("tasks", setup.tasks());
        json.put("model_options", setup.modelOptions());
        Map<String, Object> variants = new LinkedHashMap<>();
        for (VariantResult r : results) {
            Map<String, Object> v = new LinkedHashMap<>();
            for (TaskScore t : r.scores()) {
                v.put(t.task(), taskJson(t));
            }
            v.put("events_per_s", r.eventsPerSecond());
            if (r.heldOut() != null) {
                Map<String, Object> heldOut = new LinkedHashMap<>();
                for (TaskScore t : r.heldOut()) {
                    heldOut.put(t.task(), scoreJson(t));
                }
                v.put("held_out", heldOut);
            }
            List<Map<String, Object>> curve = new ArrayList<>();
            for (CurvePoint p : r.curve()) {
                curve.add(Map.of("events", p.events(), "window_auc", finiteList(p.auc()), "window_multi_auc", finiteList(p.multiAuc()),
                        "distillation_share", finiteList(p.share())));
            }
            v.put("curve", curve);
            if (r.reliability() != null) {
                Map<String, Object> tables = new LinkedHashMap<>();
                for (int k = 0; k < setup.tasks().size(); k++) {
                    List<Map<String, Object>> rows = new ArrayList<>();
                    for (Reliability.Bucket bucket : r.reliability().table(k)) {
                        rows.add(Map.of("from", bucket.from(), "to", bucket.to(), "events", bucket.events(),
                                "mean_predicted", bucket.meanPredicted(), "observed_rate", bucket.observedRate()));
                    }
                    tables.put(setup.tasks().get(k), Map.of("buckets", rows,
                            "expected_calibration_error", finite(r.reliability().expectedCalibrationError(k))));
                }
                v.put("reliability", tables);
            }
            if (r.exchange() != null) {
                Exchange x = r.exchange();
                v.put("exchange", Map.of("trainers", x.trainers(), "round_steps", x.roundSteps(), "rounds", x.rounds(),
                        "bytes_per_update", x.bytesPerUpdate(), "bytes_per_event", x.bytesPerEvent(),
                        "merge_ms_per_round", x.mergeMillisPerRound()));
            }
            variants.put(r.variant(), v);
        }
        json.put("variants", variants);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json);
    }

    static String markdown(Setup setup, List<VariantResult> results) {
        StringBuilder b = new StringBuilder();
        b.append("# Results: ").append(setup.data()).append("\n\n");
        b.append(String.format(Locale.ROOT, "%,d events, one pass, progressive validation (every event scored before it is learned from).%n%n",
                setup.events()));
        b.append("Command:\n\n```\n").append(setup.command()).append("\n```\n\n");
        b.append("## Since the start of the stream\n\n");
        table(b, setup.tasks(), results, VariantResult::scores, TaskScore::auc, TaskScore::multiAuc, TaskScore::logLoss, true);
        b.append("\n## Over the most recent tenth of the stream\n\n");
        table(b, setup.tasks(), results, VariantResult::scores, TaskScore::windowAuc, TaskScore::windowMultiAuc, TaskScore::windowLogLoss, false);
        if (setup.heldOut() > 0) {
            b.append(String.format(Locale.ROOT, "%n## Held out: the last %,d events, scored by each variant's final snapshot%n%n", setup.heldOut()));
            b.append("No variant learned from them; each is scored as serving scores it, by the snapshot the variant ends with "
                    + "(the parameters it serves). Calibration: mean served probability over the observed rate.\n\n");
            table(b, setup.tasks(), results, VariantResult::heldOut, TaskScore::auc, TaskScore::multiAuc, TaskScore::logLoss, false);
            b.append("\n| variant |");
            setup.tasks().forEach(t -> b.append(" calibration ").append(t).append(" |"));
            b.append("\n|---|").append("---|".repeat(setup.tasks().size())).append("\n");
            for (VariantResult r : results) {
                b.append("| ").append(r.variant()).append(" |");
                r.heldOut().forEach(t -> b.append(String.format(Locale.ROOT, " %.3f |", t.calibration())));
                b.append("\n");
            }
        }
        if (results.stream().anyMatch(r -> r.variant().equals("mtl"))) {
            b.append("\nIn brackets: the difference to `mtl`, the plain multi-task baseline.\n");
        }
        gate(b, setup.tasks(), results);
        exchange(b, results);
        reliability(b, setup.tasks(), results);
        return b.toString();
    }

    /** Per variant on several trainers: what the replicas exchanged. */
    private static void exchange(StringBuilder b, List<VariantResult> results) {
        List<VariantResult> parallel = results.stream().filter(r -> r.exchange() != null).toList();
        if (parallel.isEmpty()) {
            return;
        }
        b.append("\n## What the trainers exchanged\n\n");
        b.append("`VARIANT@N/R`: N data-parallel trainers, event i of the stream to trainer i mod N, merging every R steps "
                + "(docs/scaling.md). Per update: one trainer's changes for one round.\n\n");
        b.append("| variant | rounds | bytes per update | bytes sent per event | merge per round and trainer, ms |\n|---|---|---|---|---|\n");
        for (VariantResult r : parallel) {
            Exchange x = r.exchange();
            b.append(String.format(Locale.ROOT, "| %s | %,d | %,.0f | %,.0f | %.2f |%n", r.variant(), x.rounds(), x.bytesPerUpdate(),
                    x.bytesPerEvent(), x.mergeMillisPerRound()));
        }
    }

    /** Per gated variant and task: the share of alpha at the end and over the run, and the evidence behind it. */
    private static void gate(StringBuilder b, List<String> tasks, List<VariantResult> results) {
        List<VariantResult> gated = results.stream().filter(r -> r.gate() != null).toList();
        if (gated.isEmpty()) {
            return;
        }
        b.append("\n## The distillation gate\n\n");
        b.append("Per task: the part of alpha in force at the end (its mean over the curve's points), and the recent evidence: ")
                .append("the student against its label-only twin, AUC and Multi-AUC differences and log-loss ratio; ")
                .append("and the online teacher's own recent AUC and Multi-AUC.\n\n");
        b.append("| variant | task | share at the end (mean) | AUC - twin | Multi-AUC - twin | log-loss / twin | teacher AUC | teacher Multi-AUC |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        for (VariantResult r : gated) {
            for (int k = 0; k < tasks.size(); k++) {
                int task = k;
                double mean = r.curve().stream().mapToDouble(p -> p.share()[task]).average().orElse(Double.NaN);
                GateSummary g = r.gate();
                b.append(String.format(Locale.ROOT, "| %s | %s | %.2f (%.2f) | %+.4f | %+.4f | %.3f | %.4f | %.4f |%n", r.variant(), tasks.get(k),
                        g.share()[k], mean, g.auc()[k], g.multiAuc()[k], g.logLossRatio()[k], g.teacherAuc()[k], g.teacherMultiAuc()[k]));
            }
        }
    }

    /** Per task, the served probabilities' mean and the observed rate in each bucket, per variant, and the expected calibration error. */
    private static void reliability(StringBuilder b, List<String> tasks, List<VariantResult> results) {
        List<VariantResult> with = results.stream().filter(r -> r.reliability() != null).toList();
        if (with.isEmpty()) {
            return;
        }
        b.append("\n## Reliability of the served probabilities, since the start\n\n");
        b.append("Per bucket of the served probability: mean prediction / observed positive rate (events).\n");
        for (int k = 0; k < tasks.size(); k++) {
            b.append("\n").append(tasks.get(k)).append(":\n\n| bucket |");
            with.forEach(r -> b.append(' ').append(r.variant()).append(" |"));
            b.append("\n|---|").append("---|".repeat(with.size())).append("\n");
            for (int bucket = 0; bucket < ExperimentRunner.RELIABILITY_BUCKETS; bucket++) {
                double from = (double) bucket / ExperimentRunner.RELIABILITY_BUCKETS;
                b.append(String.format(Locale.ROOT, "| %.1f-%.1f |", from, from + 1.0 / ExperimentRunner.RELIABILITY_BUCKETS));
                for (VariantResult r : with) {
                    Reliability.Bucket cell = null;
                    for (Reliability.Bucket x : r.reliability().table(k)) {
                        if (Math.abs(x.from() - from) < 1e-9) {
                            cell = x;
                        }
                    }
                    b.append(cell == null ? " - |" : String.format(Locale.ROOT, " %.3f / %.3f (%,d) |", cell.meanPredicted(),
                            cell.observedRate(), cell.events()));
                }
                b.append("\n");
            }
            b.append("| expected calibration error |");
            for (VariantResult r : with) {
                b.append(String.format(Locale.ROOT, " %.4f |", r.reliability().expectedCalibrationError(k)));
            }
            b.append("\n");
        }
    }

    private static void table(StringBuilder b, List<String> tasks, List<VariantResult> results, Function<VariantResult, List<TaskScore>> scores,
            ToDoubleFunction<TaskScore> auc, ToDoubleFunction<TaskScore> multiAuc, ToDoubleFunction<TaskScore> logLoss, boolean speed) {
        b.append("| variant |");
        tasks.forEach(t -> b.append(" AUC ").append(t).append(" |"));
        tasks.forEach(t -> b.append(" Multi-AUC ").append(t).append(" |"));
        tasks.forEach(t -> b.append(" log-loss ").append(t).append(" |"));
        b.append(speed ? " events/s |\n|---|" : "\n|---|");
        b.append("---|".repeat(3 * tasks.size() + (speed ? 1 : 0))).append("\n");
        VariantResult mtl = results.stream().filter(r -> r.variant().equals("mtl")).findFirst().orElse(null);
        for (VariantResult r : results) {
            b.append("| ").append(r.variant()).append(" |");
            for (ToDoubleFunction<TaskScore> metric : List.of(auc, multiAuc)) {
                for (int k = 0; k < tasks.size(); k++) {
                    double v = metric.applyAsDouble(scores.apply(r).get(k));
                    b.append(cell(v, mtl == null || r == mtl ? Double.NaN : metric.applyAsDouble(scores.apply(mtl).get(k))));
                }
            }
            for (int k = 0; k < tasks.size(); k++) {
                b.append(String.format(Locale.ROOT, " %.4f |", logLoss.applyAsDouble(scores.apply(r).get(k))));
            }
            b.append(speed ? String.format(Locale.ROOT, " %,.0f |%n", r.eventsPerSecond()) : "\n");
        }
    }

    /** One task's metrics over all its events as JSON fields (null where undefined: JSON has no NaN). */
    private static Map<String, Object> scoreJson(TaskScore t) {
        Map<String, Object> task = new LinkedHashMap<>();
        task.put("auc", finite(t.auc()));
        task.put("multi_auc", finite(t.multiAuc()));
        task.put("logloss", finite(t.logLoss()));
        task.put("calibration", finite(t.calibration()));
        return task;
    }

    /** One task's progressive metrics as JSON fields: {@link #scoreJson}'s, then the recent window's and the counts. */
    static Map<String, Object> taskJson(TaskScore t) {
        Map<String, Object> task = scoreJson(t);
        task.put("window_auc", finite(t.windowAuc()));
        task.put("window_multi_auc", finite(t.windowMultiAuc()));
        task.put("events", t.events());
        task.put("positives", t.positives());
        return task;
    }

    private static String cell(double v, double baseline) {
        return Double.isNaN(baseline) ? String.format(Locale.ROOT, " %.4f |", v) : String.format(Locale.ROOT, " %.4f (%+.4f) |", v, v - baseline);
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static List<Double> finiteList(double[] v) {
        List<Double> out = new ArrayList<>();
        for (double d : v) {
            out.add(finite(d));
        }
        return out;
    }
}
