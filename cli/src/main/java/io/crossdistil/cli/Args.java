package io.crossdistil.cli;

import io.crossdistil.job.JobConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --key value} arguments of a subcommand: it takes its own keys, the rest pass through. */
final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();

    /**
     * @param flags options that may stand alone ({@code --quick}) and then mean true; given a
     *     value, it must be true or false
     */
    Args(String[] args, String... flags) {
        List<String> tokens = new ArrayList<>();
        List<String> flagNames = List.of(flags);
        for (int i = 0; i < args.length; i++) {
            tokens.add(args[i]);
            boolean flag = args[i].startsWith("--") && flagNames.contains(args[i].substring(2));
            boolean valueFollows = i + 1 < args.length && !args[i + 1].startsWith("--");
            if (flag && !valueFollows) {
                tokens.add("true");
            }
        }
        values.putAll(JobConfig.parseArgs(tokens.toArray(String[]::new)));
    }

    /** A flag (see the constructor): true when given alone or as true. */
    boolean takeFlag(String key) {
        String v = take(key, "false");
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("option --" + key + " is a flag: give it alone, or as true or false, not '" + v + "'");
        }
        return v.equals("true");
    }

    /** Removes and returns an option, or the default. */
    String take(String key, String defaultValue) {
        String v = values.remove(key);
        return v == null ? defaultValue : v;
    }

    long takeLong(String key, long defaultValue) {
        String v = take(key, null);
        try {
            return v == null ? defaultValue : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + key + " must be a whole number, not '" + v + "'");
        }
    }

    List<String> takeList(String key) {
        return list(take(key, null));
    }

    /** A comma-separated list's names, trimmed, empty ones left out; none for null. */
    static List<String> list(String v) {
        List<String> out = new ArrayList<>();
        if (v != null) {
            Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(out::add);
        }
        return out;
    }

    double takeDouble(String key, double defaultValue) {
        String v = take(key, null);
        try {
            return v == null ? defaultValue : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + key + " must be a number, not '" + v + "'");
        }
    }

    double[] takeDoubles(String key, String defaultValue) {
        String v = take(key, defaultValue);
        try {
            return Arrays.stream(v.split(",")).mapToDouble(s -> Double.parseDouble(s.trim())).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + key + " must be comma-separated numbers, not '" + v + "'");
        }
    }

    /** What is left: passed on to the job (and so to the model), which rejects what it does not know. */
    Map<String, String> rest() {
        return values;
    }

    void requireEmpty(String command) {
        if (!values.isEmpty()) {
            throw new IllegalArgumentException("unknown option --" + values.keySet().iterator().next() + " for '" + command + "'");
        }
    }
}
