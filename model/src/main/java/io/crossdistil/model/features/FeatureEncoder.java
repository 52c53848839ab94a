package io.crossdistil.model.features;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.FeedbackEventParser;
import io.crossdistil.avro.FeedbackEventVisitor;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.event.LabelOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What a feedback event means to the model, defined once: which embedding row each configured
 * field's value hashes to (the event's own ids stand for user_id and item_id, over categorical
 * values of those names; a field the event lacks has a row of its own), its dense values in
 * configuration order (missing ones {@link Example#MISSING}), its label permutation, and what
 * makes an event one the trainer refuses (a label missing, not 0 or 1, or, unless told to pass
 * over them, for a task it does not train; too many features; a dense value that is not finite
 * or beyond {@link #DENSE_LIMIT}).
 *
 * <p>An event reaches it either decoded by Avro ({@link #example(FeedbackEvent)}) or as its bytes,
 * read where they lie ({@link #exampleInPlace}); both feed the same fields through the same rules,
 * so both give the same example. The trainer's decoder and the serving scorer both use it, so
 * they agree on every input. One instance per thread.
 */
public final class FeatureEncoder implements FeedbackEventVisitor {
    /**
     * The largest dense value, either sign, an event may carry. A value beyond it is a sentinel or
     * a wrong unit (a missing value is left out), and standardising would square it into running
     * sums that a snapshot carries as floats: one value of 1e20 made those infinite, and the field
     * then read 0 in every event after it. 1e13 keeps epoch milliseconds and money in cents.
     */
    public static final float DENSE_LIMIT = 1e13f;

    private final FeatureHasher hasher;
    private final Names fields;
    private final int userIdField;
    private final int itemIdField;
    private final int[] missingRows;
    private final Names denseFields;
    private final Names tasks;
    private final int maxFeatures;
    private final boolean ignoreOtherLabels;
    private final FeedbackEventParser parser = new FeedbackEventParser();

    // the event being read
    private String eventId;
    private long eventTime;
    private int[] rows;
    private float[] dense;
    private long[] labels;
    private int labelsSeen;
    private String unknownTask;
    private int features;
    private String badDense;

    /** For serving and generated data: no limit on an event's features. */
    public FeatureEncoder(ModelConfig cfg) {
        this(cfg, Integer.MAX_VALUE);
    }

    /** @param maxFeatures an event with more categorical features than this is refused */
    public FeatureEncoder(ModelConfig cfg, int maxFeatures) {
        this(cfg, maxFeatures, false);
    }

    /**
     * @param ignoreOtherLabels false: an event with a label of a task the model does not train is
     *     refused; true: such labels are passed over (a topic whose events carry more tasks)
     */
    public FeatureEncoder(ModelConfig cfg, int maxFeatures, boolean ignoreOtherLabels) {
        this.hasher = new FeatureHasher(cfg.features, cfg.hashRows);
        this.fields = new Names(cfg.features);
        this.userIdField = cfg.features.indexOf("user_id");
        this.itemIdField = cfg.features.indexOf("item_id");
        this.missingRows = new int[cfg.features.size()];
        for (int f = 0; f < missingRows.length; f++) {
            missingRows[f] = hasher.row(cfg.features.get(f), FeatureHasher.MISSING);
        }
        this.denseFields = new Names(cfg.denseFeatures);
        this.tasks = new Names(cfg.tasks); // at most 8 (ModelConfig): one bit each in labelsSeen
        this.maxFeatures = maxFeatures;
        this.ignoreOtherLabels = ignoreOtherLabels;
    }

    // ---- the ways in ----

    /** The training example of a decoded event; throws InvalidEventException with the reason it is refused. */
    public Example example(FeedbackEvent e) throws InvalidEventException {
        read(e);
        return checked();
    }

    /**
     * The training example of an event's bytes, read where they lie, when they are plainly a valid
     * event of this project's schema; otherwise null, and the caller decodes them with Avro and
     * calls {@link #example(FeedbackEvent)}, which gives the reason.
     */
    public Example exampleInPlace(byte[] bytes) {
        start();
        if (!parser.parse(bytes, this) || problem() != null) {
            return null;
        }
        return new Example(eventId, eventTime, rows, dense, LabelOrder.permutation(labelArray()));
    }

    /** The features of a decoded event with the given label permutation (0 for an unlabelled one); nothing is checked. */
    public Example encode(FeedbackEvent e, int permutation) {
        read(e);
        return new Example(eventId, eventTime, rows, dense, permutation);
    }

    /** A plain feature map (user_id and item_id are ordinary keys here), unlabelled; nothing is checked. */
    public Example encode(Map<String, String> categorical, Map<String, Float> denseValues) {
        start();
        for (int f = 0; f < rows.length; f++) {
            String v = categorical.get(fields.name(f));
            if (v != null) {
                rows[f] = hasher.row(f, v);
            }
        }
        denseValues.forEach(this::dense);
        return new Example("", 0L, rows, dense, 0);
    }

    private void read(FeedbackEvent e) {
        start();
        eventId = e.getEventId();
        eventTime = e.getEventTime();
        ownId(userIdField, e.getUserId());
        ownId(itemIdField, e.getItemId());
        e.getCategorical().forEach(this::categorical);
        e.getDense().forEach(this::dense);
        e.getLabels().forEach(this::label);
    }

    // ---- the rules: every way in ends here ----

    private void start() {
        rows = missingRows.clone();
        dense = new float[denseFields.size()];
        Arrays.fill(dense, Example.MISSING);
        labels = new long[tasks.size()];
        labelsSeen = 0;
        unknownTask = null;
        features = 0;
        badDense = null;
    }

    /** The event's own ids win over categorical entries named user_id or item_id; a null id (an event built in code) leaves the field missing. */
    private void ownId(int f, String value) {
        if (f >= 0 && value != null) {
            rows[f] = hasher.row(f, value);
        }
    }

    /** A categorical entry of a decoded event or map; a null value leaves the field missing. */
    private void categorical(String key, String value) {
        int f = categoricalField(fields.indexOf(key));
        if (f >= 0 && value != null) {
            rows[f] = hasher.row(f, value);
        }
    }

    /**
     * Counts a categorical entry of configured field {@code f} (-1: not configured) and returns the
     * field its value goes to, or -1: none, where the field is not configured or is one the event's
     * own ids stand for.
     */
    private int categoricalField(int f) {
        features++;
        return f == userIdField || f == itemIdField ? -1 : f;
    }

    /** A dense entry of a decoded event or map; a null value leaves the field missing and is refused. */
    private void dense(String key, Float value) {
        if (value == null) {
            refuseDense(key, "null", "not a finite number");
        } else {
            dense(denseFields.indexOf(key), key, value);
        }
    }

    /**
     * A value that is not finite or beyond the limit refuses the event, and is kept: serving,
     * which checks nothing, then shows an infinite one in its output and reads a NaN as missing.
     */
    private void dense(int d, String key, float value) {
        String problem = denseValueProblem(value);
        if (problem != null) {
            refuseDense(key, Float.toString(value), problem);
        }
        if (d >= 0) {
            dense[d] = value;
        }
    }

    /** The event's first bad dense value is its reason. */
    private void refuseDense(String key, String shown, String problem) {
        if (badDense == null) {
            badDense = "dense feature '" + key + "' is " + shown + ", " + problem;
        }
    }

    /** Why an event may not carry this dense value, or null when it may: the rule, for every reader of events. */
    public static String denseValueProblem(float value) {
        if (!Float.isFinite(value)) {
            return "not a finite number";
        }
        return Math.abs(value) > DENSE_LIMIT ? "beyond the limit of 1e13 either side (a sentinel for a missing value? leave the field out)" : null;
    }

    /** A label of a decoded event: a null value counts as missing. */
    private void label(String task, Integer value) {
        int k = tasks.indexOf(task);
        if (k < 0) {
            unknownTask(task);
        } else if (value != null) {
            label(k, value);
        }
    }

    private void unknownTask(String name) {
        if (unknownTask == null && !ignoreOtherLabels) {
            unknownTask = name;
        }
    }

    private void label(int task, long value) {
        labels[task] = value;
        labelsSeen |= 1 << task;
    }

    /** Why the event read last is refused, or null; the first reason in this order. */
    private String problem() {
        if (unknownTask != null) {
            return "label for unknown task '" + unknownTask + "' (this job trains " + tasks.names
                    + "; --other-labels ignore reads events that carry more tasks)";
        }
        for (int k = 0; k < labels.length; k++) {
            if ((labelsSeen & 1 << k) == 0) {
                return "missing label for task '" + tasks.name(k) + "'";
            }
            if (labels[k] != 0 && labels[k] != 1) {
                return "label of task '" + tasks.name(k) + "' is " + labels[k] + ", not 0 or 1";
            }
        }
        if (features > maxFeatures) {
            return "too many features: " + features + " > max-features " + maxFeatures;
        }
        return badDense;
    }

    private Example checked() throws InvalidEventException {
        String problem = problem();
        if (problem != null) {
            throw new InvalidEventException(problem);
        }
        return new Example(eventId, eventTime, rows, dense, LabelOrder.permutation(labelArray()));
    }

    private int[] labelArray() {
        int[] y = new int[labels.length];
        for (int k = 0; k < y.length; k++) {
            y[k] = (int) labels[k];
        }
        return y;
    }

    // ---- the same fields where they lie in an event's bytes (FeedbackEventVisitor) ----

    @Override
    public void eventId(byte[] buf, int offset, int length) {
        eventId = new String(buf, offset, length, StandardCharsets.UTF_8);
    }

    @Override
    public void userId(byte[] buf, int offset, int length) {
        ownId(userIdField, buf, offset, length);
    }

    @Override
    public void itemId(byte[] buf, int offset, int length) {
        ownId(itemIdField, buf, offset, length);
    }

    private void ownId(int f, byte[] buf, int offset, int length) {
        if (f >= 0) {
            rows[f] = hasher.row(f, buf, offset, length);
        }
    }

    @Override
    public void eventTime(long millis) {
        eventTime = millis;
    }

    @Override
    public void categorical(byte[] buf, int keyOffset, int keyLength, int valueOffset, int valueLength) {
        int f = categoricalField(fields.indexOf(buf, keyOffset, keyLength));
        if (f >= 0) {
            rows[f] = hasher.row(f, buf, valueOffset, valueLength);
        }
    }

    @Override
    public void dense(byte[] buf, int keyOffset, int keyLength, float value) {
        int d = denseFields.indexOf(buf, keyOffset, keyLength);
        dense(d, denseValueProblem(value) == null ? null : new String(buf, keyOffset, keyLength, StandardCharsets.UTF_8), value);
    }

    @Override
    public void label(byte[] buf, int keyOffset, int keyLength, long value) {
        int task = tasks.indexOf(buf, keyOffset, keyLength);
        if (task < 0) {
            if (!ignoreOtherLabels) {
                unknownTask(new String(buf, keyOffset, keyLength, StandardCharsets.UTF_8));
            }
        } else {
            label(task, value);
        }
    }

    /** Configured names, found by name or by a key's UTF-8 bytes. */
    private static final class Names {
        private final List<String> names;
        private final byte[][] utf8;

        Names(List<String> names) {
            this.names = List.copyOf(names);
            this.utf8 = names.stream().map(name -> name.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
        }

        int size() {
            return names.size();
        }

        String name(int i) {
            return names.get(i);
        }

        int indexOf(String name) {
            return names.indexOf(name);
        }

        /** An ASCII key is compared byte for byte; any other as the string a decoder makes of it, as Avro's decoding compares it. */
        int indexOf(byte[] key, int offset, int length) {
            for (int i = offset; i < offset + length; i++) {
                if (key[i] < 0) {
                    return names.indexOf(new String(key, offset, length, StandardCharsets.UTF_8));
                }
            }
            for (int k = 0; k < utf8.length; k++) {
                if (Arrays.equals(key, offset, offset + length, utf8[k], 0, utf8[k].length)) {
                    return k;
                }
            }
            return -1;
        }
    }
}
