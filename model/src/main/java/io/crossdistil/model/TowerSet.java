package io.crossdistil.model;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nn.Mlp;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.state.SeededRandom;
import java.util.List;
import java.util.function.IntFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The student towers (or their label-only twins): head groups reading the backbone's output, and
 * what the towers exchange ({@link TowerExchange}): mined features at their entry, global
 * knowledge at their top. Forward and backward through both.
 */
final class TowerSet {
    private final List<HeadGroup> groups;
    private final int numTasks;
    /** Either, both or neither; mining needs one group per task (the towers read different inputs). */
    private final CrossTaskFeatureMining mining;
    private final GlobalKnowledgeDistillation global;

    /** The exchange modules' passes of one forward pass, null where a module is off. */
    record ExchangePass(CrossTaskFeatureMining.Pass mining, GlobalKnowledgeDistillation.Pass global) {}

    TowerSet(List<HeadGroup> groups, int numTasks, CrossTaskFeatureMining mining, GlobalKnowledgeDistillation global) {
        if (mining != null && groups.size() != numTasks) {
            throw new IllegalArgumentException("feature mining needs one tower group per task");
        }
        this.groups = List.copyOf(groups);
        this.numTasks = numTasks;
        this.mining = mining;
        this.global = global;
    }

    /** The towers of {@code groups} with the exchange {@code cfg} asks for, its parameters registered in {@code store} under {@code prefix}. */
    static TowerSet of(ModelConfig cfg, ParameterStore store, String prefix, List<HeadGroup> groups, int towerInput) {
        int[] towerLayers = cfg.towerLayers();
        CrossTaskFeatureMining mining = cfg.towerExchange.mining() ? new CrossTaskFeatureMining(store, prefix + ".ctfm", cfg.numTasks(),
                towerInput, cfg.ctfmTaskEmbedding, cfg.towerExchangeDropout) : null;
        GlobalKnowledgeDistillation global = cfg.towerExchange.global() ? new GlobalKnowledgeDistillation(store, prefix + ".gkd", cfg.tasks,
                towerLayers[towerLayers.length - 1], cfg.towerExchangeDropout) : null;
        return new TowerSet(groups, cfg.numTasks(), mining, global);
    }

    /**
     * The groups' gradient at an input they all read, laid out with a ones column after its
     * {@code units} (a shared bottom's output as kept for the products): one fused group's input
     * gradient has that layout already; towers of their own add up into one.
     */
    static INDArray inputGradientWithOnes(INDArray[] dIn, int rows, int units) {
        if (dIn.length == 1) {
            return dIn[0];
        }
        double[] sum = new double[rows * (units + 1)];
        for (INDArray d : dIn) {
            double[] values = HostArrays.values(d);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < units; j++) {
                    sum[i * (units + 1) + j] += values[i * units + j];
                }
            }
        }
        return HostArrays.matrix(sum, rows, units + 1, dIn[0].dataType());
    }

    /** For gradient checks: see {@link CrossTaskFeatureMining#holdStoppedInput}. */
    void holdStoppedInputs(boolean on) {
        if (mining != null) {
            mining.holdStoppedInput(on);
        }
        if (global != null) {
            global.holdStoppedInput(on);
        }
    }

    /**
     * Runs the towers on their inputs (per group, and with a ones column or null), writing each
     * group's activations into {@code acts}; the logits include the global knowledge's terms.
     *
     * @param dropout the step's dropout generator in a training pass, null in a prediction pass
     */
    ExchangePass forward(INDArray[] in, INDArray[] inWithOnes, boolean training, SeededRandom dropout, Mlp.Activations[] acts) {
        CrossTaskFeatureMining.Pass mined = null;
        if (mining != null) {
            mined = mining.forward(in, dropout);
            in = mined.outputs;
            inWithOnes = new INDArray[in.length];
        }
        for (int g = 0; g < groups.size(); g++) {
            acts[g] = groups.get(g).net().forward(in[g], inWithOnes[g], training, false);
        }
        GlobalKnowledgeDistillation.Pass knowledge = null;
        if (global != null) {
            // a group's last hidden layer holds its towers' side by side (host arrays, row-major)
            double[][] hidden = new double[numTasks][];
            int rows = 0;
            for (int g = 0; g < groups.size(); g++) {
                int[] tasks = groups.get(g).tasks();
                INDArray h = acts[g].lastHidden();
                rows = (int) h.rows();
                double[] values = HostArrays.values(h);
                for (int c = 0; c < tasks.length; c++) {
                    hidden[tasks[c]] = ColumnBlocks.take(values, rows, tasks.length, c);
                }
            }
            knowledge = global.forward(hidden, rows, dropout);
            for (int g = 0; g < groups.size(); g++) {
                int[] tasks = groups.get(g).tasks();
                INDArray logits = acts[g].output();
                double[] values = HostArrays.values(logits);
                for (int c = 0; c < tasks.length; c++) {
                    double[] terms = knowledge.terms[tasks[c]];
                    for (int i = 0; i < rows; i++) {
                        values[i * tasks.length + c] += terms[i];
                    }
                }
                logits.assign(HostArrays.matrix(values, rows, tasks.length, logits.dataType()));
            }
        }
        return new ExchangePass(mined, knowledge);
    }

    /**
     * Writes the towers' and the exchange's parameter gradients, for the batch's {@code rows},
     * from each group's logit gradients, and returns the gradients at the groups' inputs (laid out
     * as the inputs were: with a ones column where forward had one), or null unless
     * {@code inputGradient}.
     */
    INDArray[] backward(Mlp.Activations[] acts, ExchangePass x, IntFunction<INDArray> logitGradients, int rows, boolean inputGradient) {
        INDArray[] dLogits = new INDArray[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            dLogits[g] = logitGradients.apply(g);
        }
        // the global knowledge's gradients at every tower's last hidden layer, all tasks at once
        double[][] dh = null;
        if (global != null) {
            double[][] dTerm = new double[numTasks][];
            for (int g = 0; g < groups.size(); g++) {
                int[] tasks = groups.get(g).tasks();
                double[] d = HostArrays.values(dLogits[g]);
                for (int c = 0; c < tasks.length; c++) {
                    dTerm[tasks[c]] = ColumnBlocks.take(d, rows, tasks.length, c);
                }
            }
            dh = global.backward(x.global(), dTerm);
        }
        INDArray[] dIn = new INDArray[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            int[] tasks = groups.get(g).tasks();
            INDArray dHidden = null;
            if (dh != null) {
                // a group's towers side by side, as its last hidden layer holds them
                double[][] parts = new double[tasks.length][];
                for (int c = 0; c < tasks.length; c++) {
                    parts[c] = dh[tasks[c]];
                }
                double[] m = ColumnBlocks.join(parts, rows);
                dHidden = HostArrays.matrix(m, rows, m.length / rows, dLogits[g].dataType());
            }
            dIn[g] = groups.get(g).net().backward(acts[g], dLogits[g], 0, rows, inputGradient || mining != null, dHidden);
        }
        return mining == null ? dIn : mining.backward(x.mining(), dIn, inputGradient);
    }
}
