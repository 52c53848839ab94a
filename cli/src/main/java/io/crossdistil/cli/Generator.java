package io.crossdistil.cli;

import io.crossdistil.model.synthetic.SyntheticStream;
import java.util.List;

/**
 * The settings of a generated stream ({@link SyntheticStream}): seed, label rates, how many users
 * and items, how strong the learnable signal is against the labels' coin flips, and which of the
 * stream's dense fields its events carry (none unless a model asks for them).
 */
public record Generator(long seed, double[] rates, int users, int items, double signal, List<String> dense) {
    /** The project's standard stream, on which its generator results are measured. */
    public static Generator standard(long seed, double[] rates) {
        return new Generator(seed, rates, 20_000, 5_000, 1.0, List.of());
    }

    /**
     * The local demo's stream: fewer users and items, each seen dozens of times in 100,000 events,
     * and a stronger signal, so that the recent-window AUC clearly rises within the run.
     */
    public static Generator demo(long seed, double[] rates) {
        return new Generator(seed, rates, 2_000, 500, 3.0, List.of());
    }

    /** The same stream, its events carrying the dense fields {@code names}: the model's dense features. */
    public Generator withDense(List<String> names) {
        for (String n : names) {
            if (!SyntheticStream.DENSE_FIELDS.contains(n)) {
                throw new IllegalArgumentException("the generated stream's dense features are " + SyntheticStream.DENSE_FIELDS
                        + ", not '" + n + "'; replay a CSV (--csv) for others");
            }
        }
        return new Generator(seed, rates, users, items, signal, List.copyOf(names));
    }

    /** The generator options of a command ({@code --seed --rates --users --items --signal}), each defaulting to {@code defaults}'. */
    static Generator from(Args a, Generator defaults) {
        Generator g = new Generator(a.takeLong("seed", defaults.seed()), a.takeDoubles("rates", join(defaults.rates())),
                (int) a.takeLong("users", defaults.users()), (int) a.takeLong("items", defaults.items()),
                a.takeDouble("signal", defaults.signal()), defaults.dense());
        if (g.users() <= 0 || g.items() <= 0) {
            throw new IllegalArgumentException("--users and --items must be positive");
        }
        if (!(g.signal() > 0)) {
            throw new IllegalArgumentException("--signal must be positive, not " + g.signal());
        }
        for (double r : g.rates()) {
            if (!(r > 0 && r < 1)) {
                throw new IllegalArgumentException("--rates must be label rates in (0, 1), not " + r);
            }
        }
        return g;
    }

    public SyntheticStream stream(List<String> tasks) {
        if (rates.length != tasks.size()) {
            throw new IllegalArgumentException("give one label rate per task with --rates: " + tasks.size() + " tasks "
                    + tasks + ", " + rates.length + " rates");
        }
        return new SyntheticStream(tasks, rates, seed, users, items, signal);
    }

    private static String join(double[] values) {
        StringBuilder b = new StringBuilder();
        for (double v : values) {
            b.append(b.length() == 0 ? "" : ",").append(v);
        }
        return b.toString();
    }
}
