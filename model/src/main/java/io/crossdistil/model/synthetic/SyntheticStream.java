package io.crossdistil.model.synthetic;

import io.crossdistil.model.state.SeededRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A seeded stream of impressions with something to learn and something to transfer between tasks.
 *
 * <p>Users and items have latent vectors; their affinity drives every task. Task k adds its own
 * item and author effects, and depends on the label of task k-1 (finishing makes liking likelier),
 * so the tasks are correlated but not the same. Items are drawn with a power-law popularity, as in
 * real feeds. An offset per task is solved once so that the label rates match the requested ones.
 * One dense feature, {@code user_engagement}: the user's past engagement in percent, a noisy
 * reading of the user's own effect on every task, missing for one user in five (new users). The
 * same seed gives the same stream.
 */
public final class SyntheticStream {
    /** The categorical fields besides user_id and item_id. */
    public static final List<String> FIELDS = List.of("author", "category", "device", "hour");
    /** The dense fields. */
    public static final List<String> DENSE_FIELDS = List.of("user_engagement");

    private static final int LATENT = 4;
    private final List<String> tasks;
    private final SeededRandom random;
    private final int users;
    private final int items;
    private final double[][] userVec;
    private final double[] userBias;
    /** Per user: user_engagement, or NaN for a user without it. */
    private final float[] userEngagement;
    private final double[][] itemVec;
    private final double[][] itemTaskBias;
    private final int[] itemAuthor;
    private final int[] itemCategory;
    private final double[][] authorTaskBias;
    private final double[] offsets;
    private final long startTime;
    private final double signal;
    private long index;

    /**
     * @param tasks task names in priority order
     * @param rates the wanted positive rate of each task, in (0, 1)
     */
    public SyntheticStream(List<String> tasks, double[] rates, long seed) {
        this(tasks, rates, seed, 20_000, 5_000);
    }

    public SyntheticStream(List<String> tasks, double[] rates, long seed, int users, int items) {
        this(tasks, rates, seed, users, items, 1.0);
    }

    /**
     * @param signal scales every learnable effect (affinity, biases, the dependence between tasks)
     *     against the labels' coin flips: 1 is the project's standard stream, larger is easier
     */
    public SyntheticStream(List<String> tasks, double[] rates, long seed, int users, int items, double signal) {
        if (!(signal > 0)) {
            throw new IllegalArgumentException("signal must be positive, not " + signal);
        }
        this.signal = signal;
        if (rates.length != tasks.size()) {
            throw new IllegalArgumentException("give one label rate per task: " + tasks.size() + " tasks, " + rates.length + " rates");
        }
        for (double r : rates) {
            if (!(r > 0 && r < 1)) {
                throw new IllegalArgumentException("label rates must be in (0, 1), not " + r);
            }
        }
        this.tasks = List.copyOf(tasks);
        this.users = users;
        this.items = items;
        SeededRandom init = new SeededRandom(seed);
        int k = tasks.size();
        int authors = Math.max(10, items / 10);
        userVec = gaussian(init, users, LATENT, 1.0);
        userBias = gaussian(init, users, 1, 0.4)[0];
        itemVec = gaussian(init, items, LATENT, 1.0);
        itemTaskBias = gaussian(init, items, k, 0.5);
        authorTaskBias = gaussian(init, authors, k, 0.6);
        itemAuthor = new int[items];
        itemCategory = new int[items];
        for (int i = 0; i < items; i++) {
            itemAuthor[i] = init.nextInt(authors);
            itemCategory[i] = init.nextInt(30);
        }
        offsets = new double[k];
        this.startTime = 1_700_000_000_000L;
        this.random = new SeededRandom(init.nextLong());
        solveOffsets(rates, new SeededRandom(init.nextLong()));
        // a generator of its own: the labels and categorical features stay what they were without dense features
        SeededRandom dense = new SeededRandom(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        userEngagement = new float[users];
        for (int u = 0; u < users; u++) {
            double reading = userBias[u] + 0.2 * dense.nextGaussian();
            userEngagement[u] = dense.nextDouble() < 0.2 ? Float.NaN : (float) (100 / (1 + Math.exp(-2 * reading)));
        }
    }

    private static double[][] gaussian(SeededRandom r, int rows, int cols, double std) {
        double[][] m = new double[cols == 1 ? 1 : rows][cols == 1 ? rows : cols];
        for (double[] row : m) {
            for (int j = 0; j < row.length; j++) {
                row[j] = std * r.nextGaussian();
            }
        }
        return m;
    }

    /** Bisection per task, in task order (task k depends on the labels of task k - 1). */
    private void solveOffsets(double[] rates, SeededRandom r) {
        int n = 20_000;
        double[][] base = new double[n][];
        double[][] noise = new double[n][tasks.size()];
        for (int i = 0; i < n; i++) {
            int u = r.nextInt(users);
            int it = popularItem(r);
            base[i] = new double[] {u, it};
            for (int k = 0; k < tasks.size(); k++) {
                noise[i][k] = r.nextDouble();
            }
        }
        int[][] labels = new int[n][tasks.size()];
        for (int k = 0; k < tasks.size(); k++) {
            double lo = -20;
            double hi = 20;
            for (int iter = 0; iter < 60; iter++) {
                offsets[k] = (lo + hi) / 2;
                long pos = 0;
                for (int i = 0; i < n; i++) {
                    labels[i][k] = label(k, (int) base[i][0], (int) base[i][1], labels[i], noise[i][k]);
                    pos += labels[i][k];
                }
                if ((double) pos / n > rates[k]) {
                    hi = offsets[k];
                } else {
                    lo = offsets[k];
                }
            }
        }
    }

    private int popularItem(SeededRandom r) {
        // power law: low item ids are popular
        double x = Math.pow(r.nextDouble(), 2.5);
        return Math.min(items - 1, (int) (x * items));
    }

    private int label(int k, int user, int item, int[] labelsSoFar, double uniform) {
        double affinity = 0;
        for (int j = 0; j < LATENT; j++) {
            affinity += userVec[user][j] * itemVec[item][j];
        }
        // each term scaled on its own, so that signal 1 sums exactly what the standard stream always summed
        double logit = offsets[k] + signal * 0.6 * affinity + signal * userBias[user] + signal * itemTaskBias[item][k]
                + signal * authorTaskBias[itemAuthor[item]][k] + (k > 0 ? signal * 1.5 * labelsSoFar[k - 1] : 0);
        return uniform < 1.0 / (1.0 + Math.exp(-logit)) ? 1 : 0;
    }

    public SyntheticEvent next() {
        int user = random.nextInt(users);
        int item = popularItem(random);
        int[] labels = new int[tasks.size()];
        for (int k = 0; k < labels.length; k++) {
            labels[k] = label(k, user, item, labels, random.nextDouble());
        }
        long time = startTime + index * 10;
        Map<String, String> cat = new LinkedHashMap<>();
        cat.put("author", "a" + itemAuthor[item]);
        cat.put("category", "c" + itemCategory[item]);
        cat.put("device", "d" + (user % 4));
        cat.put("hour", Integer.toString((int) ((time / 3_600_000L) % 24)));
        Map<String, Float> dense = Float.isNaN(userEngagement[user]) ? Map.of() : Map.of(DENSE_FIELDS.get(0), userEngagement[user]);
        String id = "e" + index;
        index++;
        return new SyntheticEvent(id, "u" + user, "i" + item, time, cat, dense, labels);
    }

    public List<String> tasks() {
        return tasks;
    }
}
