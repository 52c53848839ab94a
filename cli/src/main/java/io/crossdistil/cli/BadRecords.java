package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.state.SeededRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Makes records the job must reject, each of a known kind, from a good event: for demonstrations
 * ({@code --bad-every}) and tests. The job never fails on them; each must reach the dead-letter
 * topic with a reason.
 */
public final class BadRecords {
    /** A kind of bad record and a word its dead-letter reason contains. */
    public enum Kind {
        TRUNCATED("corrupt"),
        NOT_AVRO("single-object"),
        UNKNOWN_SCHEMA("unknown writer schema"),
        MISSING_LABEL("missing label"),
        UNKNOWN_TASK("unknown task"),
        NON_BINARY_LABEL("not 0 or 1"),
        NAN_DENSE("not a finite number"),
        INFINITE_DENSE("not a finite number"),
        TOO_MANY_FEATURES("too many features"),
        EMPTY("single-object"),
        HUGE_DENSE("beyond the limit");

        public final String reasonContains;

        Kind(String reasonContains) {
            this.reasonContains = reasonContains;
        }
    }

    private BadRecords() {}

    public static byte[] make(Kind kind, FeedbackEvent good, SeededRandom random) {
        byte[] bytes = Wire.encode(good);
        switch (kind) {
            case TRUNCATED:
                return Arrays.copyOf(bytes, 10 + random.nextInt(Math.max(1, bytes.length - 12)));
            case NOT_AVRO: {
                byte[] junk = new byte[1 + random.nextInt(64)];
                for (int i = 0; i < junk.length; i++) {
                    junk[i] = (byte) random.nextInt(256);
                }
                junk[0] = 0x7b; // never the single-object magic
                return junk;
            }
            case UNKNOWN_SCHEMA: {
                byte[] b = bytes.clone();
                for (int i = 2; i < 10; i++) {
                    b[i] ^= (byte) (1 + random.nextInt(255)); // a fingerprint no schema has
                }
                return b;
            }
            case EMPTY:
                return new byte[0];
            default:
                break;
        }
        FeedbackEvent e = FeedbackEvent.newBuilder(good).build();
        Map<String, Integer> labels = new HashMap<>(e.getLabels());
        Map<String, Float> dense = new HashMap<>(e.getDense());
        Map<String, String> cat = new HashMap<>(e.getCategorical());
        switch (kind) {
            case MISSING_LABEL -> labels.remove(labels.keySet().iterator().next());
            case UNKNOWN_TASK -> labels.put("no_such_task", 1);
            case NON_BINARY_LABEL -> labels.put(labels.keySet().iterator().next(), 7);
            case NAN_DENSE -> dense.put("x", Float.NaN);
            case INFINITE_DENSE -> dense.put("x", Float.NEGATIVE_INFINITY);
            case HUGE_DENSE -> dense.put("x", Float.MAX_VALUE); // a sentinel some producers send for "no value"
            case TOO_MANY_FEATURES -> {
                for (int i = 0; i < 1_100; i++) {
                    cat.put("f" + i, "v");
                }
            }
            default -> throw new IllegalStateException(kind.name());
        }
        e.setLabels(labels);
        e.setDense(dense);
        e.setCategorical(cat);
        return Wire.encode(e);
    }
}
