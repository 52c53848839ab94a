package io.crossdistil.cli;

import io.crossdistil.job.JobConfig;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.Variant;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code bin/crossdistil COMMAND [options]}. */
public final class Main {
    private static final String USAGE = """
            Usage: bin/crossdistil COMMAND [options]

            Commands:
              local      run the whole pipeline here: an in-process Kafka broker, the job on a Flink MiniCluster,
                         generated or replayed events, snapshots on disk
                           --events N           generated events (default 100000)
                           --csv FILE --labels a,b[,c] [--features f1,...] [--dense-features d1,...] [--time COL]
                                                replay a CSV (.csv or .csv.gz) instead; the run ends when it is consumed;
                                                --dense-features: numeric columns fed as numbers (standardised: --dense-scaling;
                                                an empty cell, NA, NaN or ?: the row lacks the value;
                                                beyond 1e13 either side: a dead letter)
                           --snapshots DIR      snapshot directory (default snapshots/run-<time>; must be empty)
                           --summary FILE       write the run's summary as JSON
                           --partitions N       partitions of the events topic (default 1: a deterministic run;
                                                with --trainers N, N: one per trainer)
                           --trainers N         N data-parallel trainers, merging every --round-steps R steps (docs/scaling.md)
                           --bad-every N        every Nth record is a bad one, to see the dead-letter path (default 0)
                           --seed N --rates 0.38,0.04 --users N --items N --signal X
                                                the generated stream; by default the demo stream (2000 users,
                                                500 items, signal 3: easy enough to show learning in 100,000 events);
                                                its one dense feature: --dense-features user_engagement
                           --model-seed N       the model's seed (--seed is the generated stream's)
                           any job or model option (see 'bin/crossdistil help-options'), e.g. --variant mtl
              generate   write a seeded synthetic stream to Kafka or to a CSV file
                           --bootstrap-servers HOST:PORT --topic T | --csv-out FILE
                           --events N --tasks finish,like --bad-every N [--dense-features user_engagement]
                           --seed N --rates 0.38,0.04 --users N --items N --signal X
                                                the stream; by default the standard one (20000 users, 5000 items, signal 1)
              replay     write a CSV to Kafka as feedback events; rows that are not events go to the dead-letter topic
                           --csv FILE --labels a,b[,c] [--features f1,...] [--dense-features d1,...] [--time COL]
                           --bootstrap-servers HOST:PORT [--topic feedback] [--dlq-topic feedback-dlq]
              experiment  the same stream through several variants; writes DIR/results.md, results.json, PNG curves
                           --variants crossdistil,no-aux-rank,no-calibration,no-correction,vanilla-kd,mtl,two-way-kd
                           (a variant may add tower exchange modules: crossdistil+ctfm+gkd; dml = mtl+ctfm+gkd;
                           and run on N data-parallel trainers merging every R steps: crossdistil@2, crossdistil@4/1)
                           --out DIR  (--csv FILE --labels a,b [--features ..] [--time COL] | --events N [generator options])
                           [--parallel N] [--curve-points 50] [--through-kafka] [--model-seed N] [--holdout N] [model options]
                                                (--model-seed: the model's seed; --seed is the generated stream's;
                                                 --holdout: the last N events are not learned from, but scored by
                                                 each variant's final snapshot, as serving would score them)
              bench      the trainer's and the pipeline's speed, memory, checkpoint, snapshot and serving costs, in one run
                           [--quick] [--json FILE] [model options]
              snapshot show PATH
                         a snapshot's metadata, configuration and metrics (PATH: a snapshot file, or a
                         snapshot directory for its latest); the checksum is verified
              snapshot score PATH --csv FILE --labels a,b [--features f1,...] [--time COL] [--predictions OUT]
                         score a CSV with the snapshot, exactly as serving would, and print per-task AUC;
                         its columns are read as the snapshot's features and dense features unless --features names others;
                         OUT: a CSV of each scored row's line and its probability per task
              help-options   every job and model option with its default
            """;

    private Main() {}

    public static void main(String[] args) {
        if (args.length == 0 || List.of("help", "--help", "-h").contains(args[0])) {
            System.out.println(USAGE);
            return;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (args[0]) {
                case "local" -> local(new Args(rest));
                case "generate" -> Producers.generate(new Args(rest));
                case "replay" -> Producers.replay(new Args(rest));
                case "snapshot" -> SnapshotCommands.run(rest, System.out);
                case "experiment" -> experiment(new Args(rest, "through-kafka"), String.join(" ", args));
                case "bench" -> bench(rest);
                case "help-options" -> System.out.println(JobConfig.help());
                default -> throw new IllegalArgumentException("unknown command '" + args[0] + "'");
            }
        } catch (NoSuchFileException e) {
            System.err.println("crossdistil: no such file: " + e.getFile());
            System.exit(2);
        } catch (AccessDeniedException e) {
            System.err.println("crossdistil: cannot read " + e.getFile() + ": permission denied");
            System.exit(2);
        } catch (IllegalArgumentException e) {
            System.err.println("crossdistil: " + e.getMessage());
            System.err.println("Run 'bin/crossdistil help' for usage.");
            System.exit(2);
        } catch (Exception e) {
            System.err.println("crossdistil: failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0); // Flink and Kafka leave non-daemon threads behind
    }

    private static void experiment(Args a, String commandLine) throws Exception {
        String csv = a.take("csv", null);
        List<String> labels = a.takeList("labels");
        List<String> features = csv != null ? a.takeList("features") : List.of();
        String time = a.take("time", null);
        String out = a.take("out", null);
        List<String> variants = a.takeList("variants");
        if (variants.isEmpty()) {
            variants = Arrays.stream(Variant.values()).map(Variant::key).toList();
        }
        variants.forEach(ExperimentRunner::variantOptions); // an unknown name stops here, before any training
        long events = a.takeLong("events", 100_000);
        Generator generator = Generator.from(a, Generator.standard(1, new double[] {0.38, 0.04}));
        int parallel = (int) a.takeLong("parallel", Runtime.getRuntime().availableProcessors());
        int curvePoints = (int) a.takeLong("curve-points", 50);
        boolean throughKafka = a.takeFlag("through-kafka");
        long holdout = a.takeLong("holdout", 0);
        takeModelSeed(a);
        if (out == null) {
            throw new IllegalArgumentException("experiment needs --out DIR");
        }
        if (parallel <= 0 || curvePoints <= 0 || events <= 0) {
            throw new IllegalArgumentException("--events, --parallel and --curve-points must be positive");
        }
        if (holdout < 0) {
            throw new IllegalArgumentException("--holdout must be 0 (nothing held out) or the number of last events to hold out");
        }
        if (holdout > 0 && throughKafka) {
            throw new IllegalArgumentException("--holdout goes without --through-kafka: a pipeline run learns from the whole stream");
        }
        checkCsv(csv, labels);
        Map<String, String> model = new LinkedHashMap<>(a.rest());
        List<String> tasks = csv != null ? labels : List.of(model.getOrDefault("tasks", "finish,like").split(","));
        if (csv == null) {
            generator = generator.withDense(CsvEvents.denseColumns(model)); // dense features the stream has
            generator.stream(tasks); // one rate per task
        }
        String data;
        List<ExperimentRunner.VariantResult> results = new ArrayList<>();
        if (throughKafka) {
            // the local runner derives tasks and features from the data itself, as for 'local'
            LocalRunner.Options base = new LocalRunner.Options(events, csv == null ? null : Path.of(csv), labels, features, time,
                    null, null, 1, generator, 0, model);
            LocalRunner.check(base);
            for (String v : variants) {
                results.add(ExperimentRunner.throughKafka(base, v, System.out));
            }
            data = csv != null ? csv : "generated (seed " + generator.seed() + ")";
            events = results.isEmpty() ? 0 : results.get(0).scores().get(0).events();
        } else {
            model.put("tasks", String.join(",", tasks));
            if (csv != null) {
                CsvEvents.check(Path.of(csv), labels, features, CsvEvents.denseColumns(model), time);
            }
            List<io.crossdistil.avro.FeedbackEvent> stream = ExperimentRunner.load(csv == null ? null : Path.of(csv), labels, features,
                    CsvEvents.denseColumns(model), time, events, generator, tasks, System.out);
            if (stream.isEmpty()) {
                throw new IllegalArgumentException(csv + " has no row that is an event");
            }
            if (stream.size() <= holdout) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--holdout %,d leaves nothing to learn from: the stream has %,d events",
                        holdout, stream.size()));
            }
            if (!model.containsKey("features")) {
                List<String> f = new ArrayList<>(stream.get(0).getCategorical().keySet());
                if (csv == null) {
                    f.add(0, "item_id");
                    f.add(0, "user_id");
                }
                model.put("features", String.join(",", f));
            }
            ModelConfig.fromMap(model); // a bad option stops here, before any training
            int trained = Math.toIntExact(stream.size() - holdout);
            results = ExperimentRunner.run(stream.subList(0, trained), stream.subList(trained, stream.size()), variants, model,
                    parallel, curvePoints, System.out);
            data = csv != null ? csv : "generated (seed " + generator.seed() + ", rates " + Arrays.toString(generator.rates()) + ")";
            events = stream.size() - holdout;
        }
        ExperimentRunner.Setup setup = new ExperimentRunner.Setup("bin/crossdistil " + commandLine, data, events, holdout, tasks, model);
        ExperimentReport.write(Path.of(out), setup, results);
        System.out.println(ExperimentReport.markdown(setup, results));
        System.out.println("Wrote " + out + "/results.md, results.json and learning curves");
    }

    private static void bench(String[] rest) throws Exception {
        Args a = new Args(rest, "quick");
        boolean quick = a.takeFlag("quick");
        String json = a.take("json", null);
        Map<String, Object> results = Bench.run(quick, a.rest(), System.out);
        if (json != null) {
            Bench.write(results, Path.of(json));
            System.out.println("Wrote " + json);
        }
    }

    private static void local(Args a) throws Exception {
        String csv = a.take("csv", null);
        List<String> labels = a.takeList("labels");
        checkCsv(csv, labels);
        List<String> features = csv != null ? a.takeList("features") : List.of();
        String time = a.take("time", null);
        String snapshots = a.take("snapshots", null);
        String summary = a.take("summary", null);
        Generator generator = Generator.from(a, Generator.demo(1, new double[] {0.38, 0.04}));
        takeModelSeed(a);
        LocalRunner.Options o = new LocalRunner.Options(
                a.takeLong("events", 100_000), csv == null ? null : Path.of(csv), labels, features, time,
                snapshots == null ? null : Path.of(snapshots), summary == null ? null : Path.of(summary),
                (int) a.takeLong("partitions", partitionsForTrainers(a)), generator,
                a.takeLong("bad-every", 0), a.rest());
        if (o.events() <= 0 && csv == null) {
            throw new IllegalArgumentException("--events must be positive");
        }
        if (o.partitions() <= 0) {
            throw new IllegalArgumentException("--partitions must be positive");
        }
        if (o.badEvery() < 0) {
            throw new IllegalArgumentException("--bad-every must be 0 (no bad records) or positive");
        }
        LocalRunner.check(o);
        LocalRunner.run(o, System.out);
    }

    /** One partition per trainer unless --partitions says otherwise; a --trainers that is not positive is the job configuration's to refuse. */
    private static long partitionsForTrainers(Args a) {
        return Math.max(1, LocalRunner.trainers(a.rest()));
    }

    /**
     * Where --seed is the generated stream's (local, experiment), --model-seed is the model's: it
     * becomes the model option seed. Call it after the generator has taken --seed.
     */
    static void takeModelSeed(Args a) {
        String seed = a.take("model-seed", null);
        if (seed != null) {
            a.rest().put("seed", seed);
        }
    }

    /** --csv and --labels go together; the file must be there. */
    private static void checkCsv(String csv, List<String> labels) {
        if (csv != null && labels.size() < 2) {
            throw new IllegalArgumentException("--csv needs --labels with at least two label columns in task-priority order");
        }
        if (csv == null && !labels.isEmpty()) {
            throw new IllegalArgumentException("--labels goes with --csv");
        }
        if (csv != null && !Files.isRegularFile(Path.of(csv))) {
            throw new IllegalArgumentException("no such file: " + csv);
        }
    }
}
