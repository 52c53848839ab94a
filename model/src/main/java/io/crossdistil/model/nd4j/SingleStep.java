package io.crossdistil.model.nd4j;

import java.util.function.IntToDoubleFunction;

/**
 * One optimizer step on whole vectors, as ND4J's updater ops take it, worked out on the host. For
 * data-parallel replicas that each took one step from the same point on their share of a batch:
 * each replica's gradient is read back from what its step changed, and one step on the mean of
 * them ends where one trainer's step on the whole batch ends (parallel.ReplicaSync). SGD needs none
 * of this: the mean of its steps is its step on the mean gradient.
 */
public sealed interface SingleStep permits SingleStep.AdaGrad, SingleStep.Adam {
    /** Optimizer state vectors that follow a value vector (AdaGrad: the sums; Adam: m, then v). */
    int stateSlots();

    /** The gradient of the one step that moved {@code base} to {@code now} and the state from {@code stateBase} to {@code stateNow}; 0 where no step was taken. */
    double[] gradient(double[] base, double[] now, double[][] stateBase, double[][] stateNow);

    /** One step of gradient {@code g} at {@code iteration} (from 0); {@code values} and {@code state} change in place. */
    void step(double[] values, double[][] state, double[] g, long iteration);

    /**
     * {@link #gradient} for one embedding row laid out as {@code EmbeddingTable.readRow} reads it:
     * {@code dim} values, then each state slot's {@code dim} values, from {@code baseAt} in
     * {@code base} and {@code nowAt} in {@code now}; the row was stepped. The gradient goes to
     * {@code g[0..dim)}.
     */
    void rowGradient(double[] base, int baseAt, double[] now, int nowAt, int dim, double[] g);

    /** {@link #step} for one embedding row laid out as in {@link #rowGradient}, from {@code at} in {@code row}. */
    void stepRow(double[] row, int at, int dim, double[] g, long iteration);

    /**
     * ND4J's {@code ada_grad_updater}: the sum grows by g^2, then the value moves by
     * {@code -rate g / (sqrt(sum) + epsilon)}, the rate that of the step's iteration.
     */
    record AdaGrad(IntToDoubleFunction rate, double epsilon) implements SingleStep {
        @Override
        public int stateSlots() {
            return 1;
        }

        /** The gradient of a step that changed a value by {@code valueChange} and its sum by {@code sumChange}: |g| from the sum, the sign from the value. */
        public double gradient(double valueChange, double sumChange) {
            // no branch on the sign: it is as often + as -, and a mispredicted branch costs more than the root
            double g = Math.copySign(Math.sqrt(Math.max(sumChange, 0)), -valueChange);
            return valueChange == 0 ? 0 : g;
        }

        /** The value after a step of gradient {@code g} at {@code rate} from {@code value}, where {@code sumAfter} already counts g^2. */
        private double valueAfter(double value, double sumAfter, double g, double rate) {
            return value - rate * g / (Math.sqrt(sumAfter) + epsilon);
        }

        @Override
        public double[] gradient(double[] base, double[] now, double[][] stateBase, double[][] stateNow) {
            double[] g = new double[base.length];
            for (int i = 0; i < g.length; i++) {
                g[i] = gradient(now[i] - base[i], stateNow[0][i] - stateBase[0][i]);
            }
            return g;
        }

        @Override
        public void step(double[] values, double[][] state, double[] g, long iteration) {
            double r = rate.applyAsDouble((int) iteration);
            for (int i = 0; i < values.length; i++) {
                state[0][i] += g[i] * g[i];
                values[i] = valueAfter(values[i], state[0][i], g[i], r);
            }
        }

        @Override
        public void rowGradient(double[] base, int baseAt, double[] now, int nowAt, int dim, double[] g) {
            for (int j = 0; j < dim; j++) {
                g[j] = gradient(now[nowAt + j] - base[baseAt + j], now[nowAt + dim + j] - base[baseAt + dim + j]);
            }
        }

        @Override
        public void stepRow(double[] row, int at, int dim, double[] g, long iteration) {
            double r = rate.applyAsDouble((int) iteration);
            for (int j = 0; j < dim; j++) {
                row[at + dim + j] += g[j] * g[j];
                row[at + j] = valueAfter(row[at + j], row[at + dim + j], g[j], r);
            }
        }
    }

    /**
     * ND4J's {@code adam_updater}: m and v move toward g and g^2, then the value moves by
     * {@code -a m / (sqrt(v) + epsilon)} with {@code a = rate sqrt(1 - beta2^t) / (1 - beta1^t)}, t the
     * iteration + 1.
     */
    record Adam(IntToDoubleFunction rate, double beta1, double beta2, double epsilon) implements SingleStep {
        @Override
        public int stateSlots() {
            return 2;
        }

        @Override
        public double[] gradient(double[] base, double[] now, double[][] stateBase, double[][] stateNow) {
            double[] g = new double[base.length];
            boolean stepped = false;
            for (int i = 0; i < g.length && !stepped; i++) {
                stepped = stateNow[0][i] != stateBase[0][i] || stateNow[1][i] != stateBase[1][i];
            }
            for (int i = 0; stepped && i < g.length; i++) {
                // m' = beta1 m + (1 - beta1) g
                g[i] = (stateNow[0][i] - beta1 * stateBase[0][i]) / (1 - beta1);
            }
            return g;
        }

        @Override
        public void step(double[] values, double[][] state, double[] g, long iteration) {
            double a = stepSize(iteration);
            for (int i = 0; i < values.length; i++) {
                state[0][i] = beta1 * state[0][i] + (1 - beta1) * g[i];
                state[1][i] = beta2 * state[1][i] + (1 - beta2) * g[i] * g[i];
                values[i] -= a * state[0][i] / (Math.sqrt(state[1][i]) + epsilon);
            }
        }

        @Override
        public void rowGradient(double[] base, int baseAt, double[] now, int nowAt, int dim, double[] g) {
            for (int j = 0; j < dim; j++) {
                g[j] = (now[nowAt + dim + j] - beta1 * base[baseAt + dim + j]) / (1 - beta1);
            }
        }

        @Override
        public void stepRow(double[] row, int at, int dim, double[] g, long iteration) {
            double a = stepSize(iteration);
            for (int j = 0; j < dim; j++) {
                int m = at + dim + j;
                int v = at + 2 * dim + j;
                row[m] = beta1 * row[m] + (1 - beta1) * g[j];
                row[v] = beta2 * row[v] + (1 - beta2) * g[j] * g[j];
                row[at + j] -= a * row[m] / (Math.sqrt(row[v]) + epsilon);
            }
        }

        /** The rate with the bias correction of step {@code iteration} (from 0). */
        private double stepSize(long iteration) {
            return rate.applyAsDouble((int) iteration) * Math.sqrt(1 - Math.pow(beta2, iteration + 1)) / (1 - Math.pow(beta1, iteration + 1));
        }
    }
}
