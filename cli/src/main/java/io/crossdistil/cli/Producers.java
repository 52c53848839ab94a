package io.crossdistil.cli;

import io.crossdistil.model.synthetic.SyntheticEvent;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The {@code generate} and {@code replay} commands: producers for a Kafka the user runs. */
final class Producers {
    private Producers() {}

    static void generate(Args a) throws IOException {
        String csvOut = a.take("csv-out", null);
        String servers = a.take("bootstrap-servers", null);
        String topic = a.take("topic", LocalRunner.TOPIC);
        String dlq = a.take("dlq-topic", LocalRunner.DLQ_TOPIC);
        long events = a.takeLong("events", 100_000);
        Generator generator = Generator.from(a, Generator.standard(1, new double[] {0.38, 0.04}));
        long badEvery = a.takeLong("bad-every", 0);
        List<String> tasks = a.takeList("tasks");
        if (tasks.isEmpty()) {
            tasks = List.of("finish", "like");
        }
        generator = generator.withDense(a.takeList("dense-features"));
        a.requireEmpty("generate");
        generator.stream(tasks); // one rate per task, checked before anything starts
        if ((csvOut == null) == (servers == null)) {
            throw new IllegalArgumentException("give either --bootstrap-servers (to write to Kafka) or --csv-out FILE");
        }
        if (csvOut != null) {
            writeCsv(Path.of(csvOut), tasks, generator, events);
            System.out.printf("Wrote %,d events to %s%n", events, csvOut);
            return;
        }
        try (FeedbackProducer p = new FeedbackProducer(servers, topic, dlq)) {
            p.produceGenerated(tasks, generator, events, badEvery, n -> System.out.printf("  %,d events%n", n));
            System.out.printf("Wrote %,d records to %s%n", p.sent(), topic);
        }
    }

    /** The generator's stream as a CSV that {@code replay} and {@code local --csv} read back. */
    static void writeCsv(Path file, List<String> tasks, Generator generator, long events) throws IOException {
        SyntheticStream stream = generator.stream(tasks);
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            List<String> columns = new java.util.ArrayList<>(List.of("time", "user_id", "item_id"));
            columns.addAll(SyntheticStream.FIELDS);
            columns.addAll(generator.dense());
            columns.addAll(tasks);
            w.write(String.join(",", columns));
            w.newLine();
            for (long i = 0; i < events; i++) {
                SyntheticEvent e = stream.next();
                StringBuilder b = new StringBuilder().append(e.eventTime()).append(',').append(e.userId()).append(',').append(e.itemId());
                for (String f : SyntheticStream.FIELDS) {
                    b.append(',').append(e.categorical().get(f));
                }
                for (String d : generator.dense()) {
                    Float v = e.dense().get(d);
                    b.append(',').append(v == null ? "" : v.toString()); // empty: the event lacks it
                }
                for (int y : e.labels()) {
                    b.append(',').append(y);
                }
                w.write(b.toString());
                w.newLine();
            }
        }
    }

    static void replay(Args a) throws IOException {
        String csv = a.take("csv", null);
        List<String> labels = a.takeList("labels");
        List<String> features = a.takeList("features");
        String time = a.take("time", null);
        List<String> dense = a.takeList("dense-features");
        String servers = a.take("bootstrap-servers", null);
        String topic = a.take("topic", LocalRunner.TOPIC);
        String dlq = a.take("dlq-topic", LocalRunner.DLQ_TOPIC);
        a.requireEmpty("replay");
        if (csv == null || labels.size() < 2 || servers == null) {
            throw new IllegalArgumentException("replay needs --csv FILE, --labels a,b[,c] and --bootstrap-servers HOST:PORT");
        }
        try (CsvEvents rows = new CsvEvents(Path.of(csv), labels, features, dense, time);
                FeedbackProducer p = new FeedbackProducer(servers, topic, dlq)) {
            p.produceCsv(rows, Path.of(csv).getFileName().toString(), n -> System.out.printf("  %,d rows%n", n));
            System.out.printf("Wrote %,d events to %s and %,d rejected rows to %s%n", p.sent(), topic, p.deadLetters(), dlq);
        }
    }
}
