package io.crossdistil.model;

import io.crossdistil.model.nn.Mlp;
import io.crossdistil.model.state.SeededRandom;
import java.util.List;
import java.util.function.IntFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

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
            INDArray[] hidden = new INDArray[numTasks];
            for (int g = 0; g < groups.size(); g++) {
                int[] tasks = groups.get(g).tasks();
                INDArray h = acts[g].lastHidden();
                long width = h.columns() / tasks.length;
                for (int c = 0; c < tasks.length; c++) {
                    hidden[tasks[c]] = tasks.length == 1 ? h : h.get(NDArrayIndex.all(), NDArrayIndex.interval(c * width, (c + 1) * width));
                }
            }
            knowledge = global.forward(hidden, dropout);
            for (int g = 0; g < groups.size(); g++) {
                int[] tasks = groups.get(g).tasks();
                for (int c = 0; c < tasks.length; c++) {
                    GlobalKnowledgeDistillation.addTerm(knowledge, tasks[c], acts[g].output(), c);
                }
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
        INDArray[] dIn = new INDArray[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            int[] tasks = groups.get(g).tasks();
            INDArray dLogits = logitGradients.apply(g);
            INDArray dHidden = null;
            if (global != null) {
                INDArray[] parts = new INDArray[tasks.length];
                for (int c = 0; c < tasks.length; c++) {
                    parts[c] = global.backward(x.global(), tasks[c], dLogits.getColumn(c, true).dup('c'));
                }
                dHidden = parts.length == 1 ? parts[0] : Nd4j.hstack(parts);
            }
            dIn[g] = groups.get(g).net().backward(acts[g], dLogits, 0, rows, inputGradient || mining != null, dHidden);
        }
        return mining == null ? dIn : mining.backward(x.mining(), dIn, inputGradient);
    }
}
