package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.model.features.FeatureEncoder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * Reads any CSV with a header row (plain or {@code .gz}) as feedback events: the label columns,
 * in task-priority order, hold 0/1; the dense columns (the model option {@code dense-features})
 * hold finite numbers, or where a row lacks the value nothing or a "not available" token
 * ({@link #MISSING}: NA, NaN, null, ?, ...); every other column is a categorical feature unless
 * the feature columns are named; an optional time column holds epoch seconds, epoch milliseconds
 * or an ISO-8601 time. Columns named user_id and item_id fill the event's ids. A row that cannot
 * be turned into an event is returned with the reason, never dropped.
 */
public final class CsvEvents implements AutoCloseable {
    /** What a dense cell holds where the row lacks the value: nothing, or a token of pandas' and UCI's files for "not available". */
    static final Set<String> MISSING = Set.of("", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None",
            "#N/A", "<NA>", "?");

    /** One row: either an event, or the reason it is not one. */
    public record Row(long line, String raw, FeedbackEvent event, String error) {}

    private final BufferedReader reader;
    private final String source;
    private final List<String> header;
    private final int[] labelIdx;
    private final List<String> labels;
    private final List<String> features;
    private final int[] featureIdx;
    private final List<String> dense;
    private final int[] denseIdx;
    private final int timeIdx;
    private final int userIdx;
    private final int itemIdx;
    private long line = 1;

    /** @param dense the columns read as dense features (numbers), left out of the categorical features unless these are named */
    public CsvEvents(Path file, List<String> labels, List<String> features, List<String> dense, String timeColumn) throws IOException {
        InputStream in = Files.newInputStream(file);
        if (file.getFileName().toString().endsWith(".gz")) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
        this.source = file.getFileName().toString();
        try {
            String first = reader.readLine();
            if (first == null) {
                throw new IllegalArgumentException(file + " is empty: a header row is needed");
            }
            header = parse(first.startsWith("\uFEFF") ? first.substring(1) : first);
            this.labels = List.copyOf(labels);
            labelIdx = indexes(labels, "label");
            timeIdx = timeColumn == null ? -1 : indexes(List.of(timeColumn), "time")[0];
            if (features == null || features.isEmpty()) {
                List<String> rest = new ArrayList<>();
                for (String h : header) {
                    if (!labels.contains(h) && !h.equals(timeColumn) && !dense.contains(h)) {
                        rest.add(h);
                    }
                }
                this.features = List.copyOf(rest);
            } else {
                this.features = List.copyOf(features);
            }
            if (this.features.isEmpty()) {
                throw new IllegalArgumentException(file + " has no feature column besides the labels " + labels);
            }
            featureIdx = indexes(this.features, "feature");
            this.dense = List.copyOf(dense);
            denseIdx = indexes(this.dense, "dense feature");
            List<String> inputs = new ArrayList<>(this.features);
            inputs.addAll(this.dense);
            for (String c : inputs) {
                if (labels.contains(c)) {
                    throw new IllegalArgumentException("column '" + c + "' is a label: a feature made of it would hand the model its answer");
                }
            }
        } catch (IOException | RuntimeException e) {
            reader.close();
            throw e;
        }
        userIdx = header.indexOf("user_id");
        itemIdx = header.indexOf("item_id");
    }

    /** The columns a configuration (the model option {@code dense-features}, comma-separated) reads as dense features. */
    public static List<String> denseColumns(Map<String, String> options) {
        return Args.list(options.get("dense-features"));
    }

    /**
     * Reads only the header and returns the feature columns, or says in one line what does not fit
     * (no such file, an empty file, a named column that is not in the header).
     */
    public static List<String> check(Path file, List<String> labels, List<String> features, List<String> dense, String timeColumn)
            throws IOException {
        try (CsvEvents csv = new CsvEvents(file, labels, features, dense, timeColumn)) {
            return csv.features();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + file);
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException(file + " ends in .gz but is not gzip-compressed: " + e.getMessage());
        }
    }

    private int[] indexes(List<String> names, String what) {
        int[] idx = new int[names.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = header.indexOf(names.get(i));
            if (idx[i] < 0) {
                throw new IllegalArgumentException(what + " column '" + names.get(i) + "' is not in the header " + header);
            }
        }
        return idx;
    }

    public List<String> header() {
        return header;
    }

    public List<String> features() {
        return features;
    }

    /** The next row, or null at the end of the file. */
    public Row next() throws IOException {
        String raw = reader.readLine();
        if (raw == null) {
            return null;
        }
        line++;
        long start = line;
        // a quoted field may span lines
        while (unbalancedQuotes(raw)) {
            String more = reader.readLine();
            if (more == null) {
                return new Row(start, raw, null, "line " + start + ": unterminated quoted field");
            }
            line++;
            raw = raw + "\n" + more;
        }
        List<String> cols = parse(raw);
        if (cols.size() != header.size()) {
            return new Row(start, raw, null, "line " + start + ": " + cols.size() + " columns, the header has " + header.size());
        }
        Map<String, Integer> y = new LinkedHashMap<>();
        for (int k = 0; k < labelIdx.length; k++) {
            String v = cols.get(labelIdx[k]).trim();
            if (!v.equals("0") && !v.equals("1")) {
                return new Row(start, raw, null, "line " + start + ": label column '" + labels.get(k) + "' holds '" + v + "', not 0 or 1");
            }
            y.put(labels.get(k), v.equals("1") ? 1 : 0);
        }
        long time = start;
        if (timeIdx >= 0) {
            try {
                time = parseTime(cols.get(timeIdx).trim());
            } catch (RuntimeException e) {
                return new Row(start, raw, null, "line " + start + ": time '" + cols.get(timeIdx) + "' is not epoch seconds, epoch milliseconds or ISO-8601");
            }
        }
        Map<String, String> cat = new LinkedHashMap<>();
        for (int f = 0; f < featureIdx.length; f++) {
            cat.put(features.get(f), cols.get(featureIdx[f]));
        }
        Map<String, Float> numbers = new LinkedHashMap<>();
        for (int d = 0; d < denseIdx.length; d++) {
            String v = cols.get(denseIdx[d]).trim();
            if (MISSING.contains(v)) {
                continue; // the event lacks the field
            }
            float x;
            try {
                x = Float.parseFloat(v);
            } catch (NumberFormatException notANumber) {
                x = Float.NaN;
            }
            String problem = FeatureEncoder.denseValueProblem(x);
            if (problem != null) {
                return new Row(start, raw, null, "line " + start + ": dense column '" + dense.get(d) + "' holds '" + v + "', " + problem);
            }
            numbers.put(dense.get(d), x);
        }
        FeedbackEvent e = FeedbackEvent.newBuilder().setEventId(source + ":" + start)
                .setUserId(userIdx >= 0 ? cols.get(userIdx) : "").setItemId(itemIdx >= 0 ? cols.get(itemIdx) : "")
                .setEventTime(time).setCategorical(cat).setDense(numbers).setLabels(y).setTeacherScores(null).build();
        return new Row(start, raw, e, null);
    }

    static long parseTime(String v) {
        try {
            long n = Long.parseLong(v);
            return n < 100_000_000_000L ? n * 1000 : n; // before 1973 in ms means seconds
        } catch (NumberFormatException notANumber) {
            try {
                return Instant.parse(v).toEpochMilli();
            } catch (RuntimeException notAnInstant) {
                return LocalDateTime.parse(v.replace(' ', 'T')).toInstant(ZoneOffset.UTC).toEpochMilli();
            }
        }
    }

    private static boolean unbalancedQuotes(String s) {
        int q = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '"') {
                q++;
            }
        }
        return q % 2 == 1;
    }

    /** RFC 4180 fields: commas separate, double quotes quote, two double quotes are one. */
    static List<String> parse(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else if (c != '\r') {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
