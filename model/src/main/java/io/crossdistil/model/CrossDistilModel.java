package io.crossdistil.model;

import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.HostArrays;
import io.crossdistil.model.nn.KeptArrays;
import io.crossdistil.model.nn.Losses;
import io.crossdistil.model.nn.MatMul;
import io.crossdistil.model.nn.Mlp;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.nn.Rows;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.sampling.SeededRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The multi-task model of ALGORITHM.md: hashed embeddings, a shared-bottom or MMoE backbone, K
 * regression students and K ranking teachers, Platt calibration, error correction, and one
 * synchronous training step (section 5) over a mini-batch and reservoir samples.
 *
 * <p><b>One pass per step.</b> The batch, the tuples and the marginal samples are stacked into one
 * matrix of rows (batch first, then the tuples grouped by permutation, then per task the marginal
 * positives and negatives), so each layer is one matrix product for all of them and every ranking
 * pair is an elementwise difference of two contiguous row blocks.
 *
 * <p><b>Normalisation.</b> ALGORITHM.md writes the ranking losses as sums; here every term is a
 * mean over its samples (batch events, tuples or pairs), so the step size does not depend on how
 * many samples a step draws.
 *
 * <p><b>Calibration</b> trains on the teacher logits of the same forward pass, i.e. the pre-step
 * logits, which are also the ones distilled in that step.
 *
 * <p>Deterministic: the same configuration (seed) and the same inputs give the same bits.
 */
public final class CrossDistilModel {
    private static final int FORMAT = 1;
    private static final String EMBEDDING = "embedding";
    /**
     * Every array a training step creates lives in this workspace, memory reused from step to step
     * instead of some thirty native allocations (malloc, zeroing, page faults): 6-9% of a step's
     * CPU time in alternating A/B rounds. Sized by the first step; nothing made in it outlives the
     * step (ND4J fails an op that reads such an array).
     */
    private static final WorkspaceConfiguration STEP_WORKSPACE = WorkspaceConfiguration.builder()
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyAllocation(AllocationPolicy.OVERALLOCATE).overallocationLimit(0.3)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private final ModelConfig cfg;
    private final Variant variant;
    private final int numTasks;
    private final int numFields;
    private final int numDense;
    private final int inputSize;

    private final ParameterStore theta;
    private final ParameterStore omega;
    private final EmbeddingTable embeddings;
    /**
     * A training step's own arrays, kept from step to step (see KeptArrays): the looked-up
     * embeddings (slot 0), the students' rows of the shared output (1), and each head group's
     * logit gradients (2 + group, students' groups first).
     */
    private final KeptArrays kept;
    private final Mlp bottom;
    private final List<Mlp> experts = new ArrayList<>();
    private final Mlp teacherBottom;
    /** Student and teacher towers, grouped: a group computes every tower that reads the same input (see {@link HeadGroup}). */
    private final List<HeadGroup> studentGroups = new ArrayList<>();
    private final List<HeadGroup> teacherGroups = new ArrayList<>();

    private long steps;
    private long skippedSteps;
    /** Non-null only in gradient checks: [0][k] distillation targets, [1][k] mutual-learning targets. */
    private double[][][] frozenTargets;

    public CrossDistilModel(ModelConfig cfg) {
        this.cfg = cfg;
        this.variant = cfg.variant;
        this.numTasks = cfg.numTasks();
        this.numFields = cfg.features.size();
        this.numDense = cfg.denseFeatures.size();
        this.inputSize = numFields * cfg.embeddingDim + numDense;

        SeededRandom random = new SeededRandom(cfg.seed);
        theta = new ParameterStore(cfg.dtype, cfg.optimizer.updater(cfg.learningRate));
        int towerInput;
        if (cfg.backbone == Backbone.SHARED_BOTTOM) {
            bottom = new Mlp(theta, "bottom", inputSize, cfg.bottomLayers, false);
            towerInput = bottom.outputSize();
        } else {
            bottom = null;
            for (int e = 0; e < cfg.experts; e++) {
                experts.add(new Mlp(theta, "expert." + e, inputSize, cfg.expertLayers, false));
            }
            towerInput = experts.get(0).outputSize();
        }
        boolean separate = variant.hasTeachers() && cfg.teacherRouting == TeacherRouting.SEPARATE;
        teacherBottom = separate ? new Mlp(theta, "teacher-bottom", inputSize, cfg.bottomLayers, false) : null;
        int[] towerSizes = java.util.Arrays.copyOf(cfg.towerLayers, cfg.towerLayers.length + 1);
        towerSizes[towerSizes.length - 1] = 1;
        // towers reading one input run as one network: the students on a shared bottom, the
        // teachers on a shared bottom or their own; MMoE gives every tower its own mixture
        List<Integer> all = java.util.stream.IntStream.range(0, numTasks).boxed().toList();
        if (cfg.backbone == Backbone.SHARED_BOTTOM) {
            studentGroups.add(group("students", all, this::studentName, towerInput, towerSizes));
        } else {
            for (int k = 0; k < numTasks; k++) {
                studentGroups.add(group("students", List.of(k), this::studentName, towerInput, towerSizes));
                addGate(studentName(k));
            }
        }
        if (variant.hasTeachers()) {
            int in = separate ? teacherBottom.outputSize() : towerInput;
            if (separate || cfg.backbone == Backbone.SHARED_BOTTOM) {
                teacherGroups.add(group("teachers", all, this::teacherName, in, towerSizes));
            } else {
                for (int k = 0; k < numTasks; k++) {
                    teacherGroups.add(group("teachers", List.of(k), this::teacherName, in, towerSizes));
                    addGate(teacherName(k));
                }
            }
        }
        theta.build(random);

        omega = new ParameterStore(cfg.dtype, cfg.optimizer.updater(cfg.calibrationLearningRate));
        omega.add("calibration.P", Double.NaN, 1, numTasks);
        omega.add("calibration.Q", 0.0, 1, numTasks);
        omega.build(random);

        embeddings = new EmbeddingTable(cfg.hashRows, cfg.embeddingDim, cfg.dtype,
                cfg.optimizer.updater(cfg.learningRate), random, 0.05);
        kept = new KeptArrays(LOGIT_GRADIENTS + studentGroups.size() + teacherGroups.size());
    }

    /** The towers of {@code tasks} reading one input, as one network; output column i is task {@code tasks[i]}'s logit. */
    private record HeadGroup(Mlp net, int[] tasks) {}

    private HeadGroup group(String block, List<Integer> tasks, java.util.function.IntFunction<String> name, int in, int[] sizes) {
        List<String> prefixes = tasks.stream().map(name::apply).toList();
        Mlp net = Mlp.towers(theta, block, prefixes, in, sizes, true);
        return new HeadGroup(net, tasks.stream().mapToInt(Integer::intValue).toArray());
    }

    private void addGate(String head) {
        theta.add("gate." + head + ".W", Math.sqrt(1.0 / inputSize), inputSize, cfg.experts);
        theta.add("gate." + head + ".b", 0.0, 1, cfg.experts);
    }

    private String studentName(int k) {
        return "student." + cfg.tasks.get(k);
    }

    private String teacherName(int k) {
        return "teacher." + cfg.tasks.get(k);
    }

    public ModelConfig config() {
        return cfg;
    }

    /** Training steps taken (skipped ones not counted). */
    public long steps() {
        return steps;
    }

    /** Steps skipped because a loss or gradient was not finite. */
    public long skippedSteps() {
        return skippedSteps;
    }

    // ------------------------------------------------------------------------------------------
    // The training step

    /**
     * One synchronous step (ALGORITHM.md section 5): scores the batch with the current model,
     * takes one Theta step on L_Model over the batch and the samples, and one Omega step on L_Cal.
     * Offering the batch to the reservoirs is the caller's (it owns the sampler).
     */
    public StepResult step(List<Example> batch, Samples samples) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(STEP_WORKSPACE, "crossdistil-step")) {
            return stepInWorkspace(batch, samples);
        }
    }

    private StepResult stepInWorkspace(List<Example> batch, Samples samples) {
        Pass pass = forward(batch, samples, true);
        Map<String, Double> terms = new LinkedHashMap<>();
        double modelLoss = modelLossAndGradients(pass, terms);
        double calLoss = 0;
        if (variant.calibrates()) {
            calLoss = calibrationLossAndGradients(pass);
            terms.put("calibration", calLoss);
        }
        double[][] predictions = pass.predictions();
        boolean finite = Double.isFinite(modelLoss) && Double.isFinite(calLoss)
                && theta.gradientsFinite() && pass.embeddingGradientFinite;
        if (!finite) {
            skippedSteps++;
            return new StepResult(predictions, modelLoss, calLoss, true, terms);
        }
        int iteration = (int) Math.min(Integer.MAX_VALUE, steps);
        theta.applyUpdate(iteration);
        embeddings.applyUpdate(iteration);
        if (variant.calibrates()) {
            omega.applyUpdate(iteration);
        }
        steps++;
        return new StepResult(predictions, modelLoss, calLoss, false, terms);
    }

    /** Calibrated student probabilities, [events][tasks]: what serving returns. */
    public double[][] predict(List<Example> events) {
        return forward(events, Samples.none(numTasks), false).predictions();
    }

    /** Where every row of a step's stacked matrix comes from: the batch first, then the samples in their order. */
    private static final class Layout {
        final int batch;
        final int total;
        final int[] tupleStart;
        final int[] tupleCount;
        final int[] marginalStart;
        final int[] marginalCount;

        Layout(int batch, Samples s) {
            this.batch = batch;
            total = batch + s.rowCount();
            tupleCount = s.tupleCounts();
            tupleStart = new int[tupleCount.length];
            for (int p = 0; p < tupleCount.length; p++) {
                tupleStart[p] = batch + s.tupleStart(p);
            }
            marginalCount = s.pairCounts();
            marginalStart = new int[marginalCount.length];
            for (int k = 0; k < marginalCount.length; k++) {
                marginalStart[k] = batch + s.positivesStart(k);
            }
        }
    }

    /** Everything the forward pass computed that the backward pass needs. */
    /** Slots of the training pass's kept arrays: the embedding rows (with a ones column, and the view without it), the shared bottom's input rows with it, the students' rows of the shared output (without and with it), then each head group's logit gradients. */
    private static final int EMBEDDINGS = 0;
    private static final int EMBEDDINGS_WITHOUT_ONES = 1;
    private static final int SHARED_INPUT_WITH_ONES = 2;
    private static final int STUDENT_INPUT = 3;
    private static final int STUDENT_INPUT_WITH_ONES = 4;
    private static final int LOGIT_GRADIENTS = 5;

    private final class Pass {
        Layout layout;
        int batch;
        int total;
        int[] indices;
        INDArray x0;
        /** x0 with a ones column after it (x0 a view of its first columns), or null. */
        INDArray x0WithOnes;
        int sharedRows;
        Mlp.Activations bottomActs;
        List<Mlp.Activations> expertActs;
        INDArray[] gates;
        Mlp.Activations teacherBottomActs;
        /** Per head group, in the order of studentGroups / teacherGroups. */
        Mlp.Activations[] studentActs = new Mlp.Activations[studentGroups.size()];
        Mlp.Activations[] teacherActs = new Mlp.Activations[teacherGroups.size()];
        /** [task][batch row] */
        double[][] labels;
        private final double[][] studentHost = new double[numTasks][];
        private final double[][] teacherHost = new double[numTasks][];
        /** [task][batch row]: sigmoid of the student logits, once the student losses have worked them out. */
        final double[][] studentProbabilities = new double[numTasks][];
        /** [task][row]: the loss gradient with respect to each head's logits. */
        double[][] dStudent = new double[numTasks][];
        double[][] dTeacher = new double[numTasks][];
        boolean embeddingGradientFinite = true;

        /** Task k's student logits on the host; each group's logits are copied out once per pass. */
        double[] studentLogitsOnHost(int k) {
            if (studentHost[k] == null) {
                copyLogits(studentGroups, studentActs, studentHost);
            }
            return studentHost[k];
        }

        /** Task k's teacher logits on the host, copied once per pass. */
        double[] teacherLogitsOnHost(int k) {
            if (teacherHost[k] == null) {
                copyLogits(teacherGroups, teacherActs, teacherHost);
            }
            return teacherHost[k];
        }

        private void copyLogits(List<HeadGroup> groups, Mlp.Activations[] acts, double[][] host) {
            for (int g = 0; g < groups.size(); g++) {
                int[] tasks = groups.get(g).tasks();
                double[] values = HostArrays.values(acts[g].output());
                int rows = values.length / tasks.length;
                for (int c = 0; c < tasks.length; c++) {
                    double[] column = new double[rows];
                    for (int i = 0; i < rows; i++) {
                        column[i] = values[i * tasks.length + c];
                    }
                    host[tasks[c]] = column;
                }
            }
        }

        /** [row][task]: sigmoid of the student logits. */
        double[][] predictions() {
            double[][] out = new double[batch][numTasks];
            for (int k = 0; k < numTasks; k++) {
                double[] known = studentProbabilities[k];
                double[] r = known == null ? studentLogitsOnHost(k) : null;
                for (int i = 0; i < batch; i++) {
                    out[i][k] = known != null ? known[i] : Losses.sigmoid(r[i]);
                }
            }
            return out;
        }
    }

    private boolean teachersReadSharedBackbone() {
        return variant.hasTeachers() && cfg.teacherRouting != TeacherRouting.SEPARATE;
    }

    /**
     * A training pass computes the teachers too and writes into the networks' kept arrays (one
     * thread); a prediction pass only the students, in new arrays.
     */
    private Pass forward(List<Example> batch, Samples samples, boolean training) {
        Pass p = new Pass();
        p.layout = new Layout(batch.size(), samples);
        p.batch = batch.size();
        p.total = p.layout.total;
        boolean teachersOn = training && variant.hasTeachers();

        p.indices = new int[p.total * numFields];
        double[] dense = numDense == 0 ? null : new double[p.total * numDense];
        for (int i = 0; i < p.batch; i++) {
            Example e = batch.get(i);
            System.arraycopy(e.rows, 0, p.indices, i * numFields, numFields);
            for (int j = 0; j < numDense; j++) {
                dense[i * numDense + j] = e.dense[j];
            }
        }
        System.arraycopy(samples.rows(), 0, p.indices, p.batch * numFields, samples.rowCount() * numFields);
        for (int j = 0; j < samples.rowCount() * numDense; j++) {
            dense[p.batch * numDense + j] = samples.dense()[j];
        }
        long embColumns = (long) numFields * cfg.embeddingDim;
        INDArray emb;
        if (training && bottom != null && teacherBottom == null && dense == null) {
            // the shared bottom is the embeddings' only reader: looked up with a ones column after
            // each event's rows, its first layer's x W + b is one product, as its later layers' are
            p.x0WithOnes = embeddings.lookup(p.indices, numFields, kept.matrix(EMBEDDINGS, cfg.dtype, p.total, embColumns + 1));
            emb = kept.columns(EMBEDDINGS_WITHOUT_ONES, p.x0WithOnes, embColumns);
        } else {
            emb = embeddings.lookup(p.indices, training ? kept.matrix(EMBEDDINGS, cfg.dtype, p.total, embColumns)
                    : Nd4j.createUninitialized(cfg.dtype, new long[] {p.total, embColumns}, 'c'));
        }
        p.x0 = dense == null ? emb : Nd4j.hstack(emb, HostArrays.matrix(dense, p.total, numDense, cfg.dtype));

        p.labels = new double[numTasks][p.batch];
        for (int i = 0; i < p.batch; i++) {
            for (int k = 0; k < numTasks; k++) {
                p.labels[k][i] = LabelOrder.label(batch.get(i).permutation, k, numTasks);
            }
        }

        // the shared backbone processes all rows only when teacher towers read it
        p.sharedRows = teachersOn && teachersReadSharedBackbone() ? p.total : p.batch;
        INDArray sharedInput = Rows.first(p.x0, p.sharedRows);
        INDArray shared = null;
        INDArray sharedWithOnes = null;
        if (bottom != null) {
            // the towers read the shared output by products only: kept with a ones column for their bias
            INDArray sharedInputWithOnes = p.x0WithOnes == null ? null : kept.rows(SHARED_INPUT_WITH_ONES, p.x0WithOnes, 0, p.sharedRows);
            p.bottomActs = bottom.forward(sharedInput, sharedInputWithOnes, training, true);
            shared = p.bottomActs.output();
            sharedWithOnes = p.bottomActs.outputWithOnes();
        } else {
            p.expertActs = new ArrayList<>();
            for (Mlp e : experts) {
                p.expertActs.add(e.forward(sharedInput, training));
            }
            p.gates = new INDArray[2 * numTasks];
        }
        for (int g = 0; g < studentGroups.size(); g++) {
            int k = studentGroups.get(g).tasks()[0];
            INDArray in = shared == null ? mixture(p, k, studentName(k), p.batch)
                    : training ? kept.rows(STUDENT_INPUT, shared, 0, p.batch) : Rows.first(shared, p.batch);
            INDArray inWithOnes = sharedWithOnes == null ? null : kept.rows(STUDENT_INPUT_WITH_ONES, sharedWithOnes, 0, p.batch);
            p.studentActs[g] = studentGroups.get(g).net().forward(in, inWithOnes, training, false);
        }
        if (teachersOn) {
            INDArray separateOut = null;
            if (teacherBottom != null) {
                p.teacherBottomActs = teacherBottom.forward(p.x0, training);
                separateOut = p.teacherBottomActs.output();
            }
            for (int g = 0; g < teacherGroups.size(); g++) {
                int k = teacherGroups.get(g).tasks()[0];
                INDArray in = separateOut != null ? separateOut
                        : shared != null ? shared : mixture(p, numTasks + k, teacherName(k), p.total);
                p.teacherActs[g] = teacherGroups.get(g).net().forward(in, separateOut == null ? sharedWithOnes : null, training, false);
            }
        }
        return p;
    }

    /** MMoE: the gate-weighted sum of the expert outputs for tower {@code tower}, first {@code rows} rows. */
    private INDArray mixture(Pass p, int tower, String head, int rows) {
        INDArray x = Rows.first(p.x0, rows);
        INDArray gate = Transforms.softmax(MatMul.of(x, false, theta.param("gate." + head + ".W"), false).addiRowVector(theta.param("gate." + head + ".b")), false);
        p.gates[tower] = gate;
        INDArray out = null;
        for (int e = 0; e < experts.size(); e++) {
            INDArray term = Rows.first(p.expertActs.get(e).output(), rows).mulColumnVector(gate.getColumn(e, true));
            out = out == null ? term : out.addi(term);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Losses (ALGORITHM.md sections 3 and 4) and their gradients with respect to the logits

    /** The distillation target t of task k on the batch rows: a constant. */
    private double[] distillationTarget(Pass p, int k) {
        double[] t = java.util.Arrays.copyOf(p.teacherLogitsOnHost(k), p.batch);
        if (variant.calibrates()) {
            double scale = omega.param("calibration.P").getDouble(k);
            double shift = omega.param("calibration.Q").getDouble(k);
            for (int i = 0; i < t.length; i++) {
                t[i] = scale * t[i] + shift;
            }
        }
        return variant.corrects() ? Losses.errorCorrected(t, p.labels[k], cfg.margin) : t;
    }

    /**
     * The soft target a head distils towards: a constant of the step. Gradient checks freeze it
     * (see {@link #freezeTargetsForCheck}) so that finite differences see the same constant.
     */
    private double[] constantTarget(int slot, int k, java.util.function.Supplier<double[]> compute) {
        if (frozenTargets != null && frozenTargets[slot][k] != null) {
            return frozenTargets[slot][k];
        }
        double[] t = compute.get();
        if (frozenTargets != null) {
            frozenTargets[slot][k] = t;
        }
        return t;
    }

    /** sigmoid(v / tau), elementwise, as a new array. */
    private static double[] softTargets(double[] v, double tau) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Losses.sigmoid(v[i] / tau);
        }
        return out;
    }

    /** A group's logit gradients for rows {@code from} to {@code from + rows - 1} as one matrix (kept in {@code slot}): column i is task {@code tasks[i]}'s. */
    private INDArray logitGradients(int slot, HeadGroup group, double[][] perTask, int from, int rows) {
        int[] tasks = group.tasks();
        double[] m = new double[rows * tasks.length];
        for (int c = 0; c < tasks.length; c++) {
            double[] d = perTask[tasks[c]];
            for (int i = 0; i < rows; i++) {
                m[i * tasks.length + c] = d[from + i];
            }
        }
        return HostArrays.put(m, kept.matrix(slot, cfg.dtype, rows, tasks.length));
    }

    private double modelLossAndGradients(Pass p, Map<String, Double> terms) {
        double total = 0;
        int b = p.batch;
        for (int k = 0; k < numTasks; k++) {
            String task = cfg.tasks.get(k);
            double[] r = p.studentLogitsOnHost(k);
            double[] y = p.labels[k];
            double alpha = variant.distils() ? cfg.alpha[k] : 0.0;
            double ws = cfg.studentWeights[k];
            double[] d = new double[b];
            double[] probability = new double[b];
            p.studentProbabilities[k] = probability;
            // L_k = BCE(y, sigmoid(r)); d/dr = sigmoid(r) - y
            double bce = 0;
            for (int i = 0; i < b; i++) {
                double e = Losses.expNegAbs(r[i]);
                bce += Losses.crossEntropyWithLogits(y[i], r[i], e);
                probability[i] = Losses.sigmoid(r[i], e);
                d[i] = (probability[i] - y[i]) * (1 - alpha) * ws / b;
            }
            bce /= b;
            terms.put("student." + task + ".bce", bce);
            double studentLoss = (1 - alpha) * bce;
            if (alpha > 0) {
                // L_KD = CE(sigmoid(t / tau), sigmoid(r / tau)); d/dr = (sigmoid(r / tau) - sigmoid(t / tau)) / tau
                double tau = cfg.tau;
                final int taskIndex = k;
                double[] soft = constantTarget(0, k, () -> softTargets(distillationTarget(p, taskIndex), tau));
                double kd = 0;
                for (int i = 0; i < b; i++) {
                    double z = r[i] / tau;
                    double e = Losses.expNegAbs(z);
                    kd += Losses.crossEntropyWithLogits(soft[i], z, e);
                    d[i] += (Losses.sigmoid(z, e) - soft[i]) * alpha * ws / (tau * b);
                }
                kd /= b;
                terms.put("student." + task + ".kd", kd);
                studentLoss += alpha * kd;
            }
            p.dStudent[k] = d;
            total += ws * studentLoss;
        }
        for (int k = 0; k < numTasks && variant.hasTeachers(); k++) {
            String task = cfg.tasks.get(k);
            double[] r = p.teacherLogitsOnHost(k);
            double[] d = new double[p.total];
            double wt = cfg.teacherWeights[k];
            double teacherLoss = 0;
            if (variant == Variant.VANILLA_KD) {
                double[] y = p.labels[k];
                double bce = 0;
                for (int i = 0; i < b; i++) {
                    double e = Losses.expNegAbs(r[i]);
                    bce += Losses.crossEntropyWithLogits(y[i], r[i], e);
                    d[i] = (Losses.sigmoid(r[i], e) - y[i]) * wt / b;
                }
                bce /= b;
                terms.put("teacher." + task + ".bce", bce);
                teacherLoss += bce;
            } else {
                if (variant.auxiliaryRanking()) {
                    double aux = 0;
                    for (LabelOrder.Pair pair : LabelOrder.auxiliaryPairs(k, numTasks)) {
                        double beta = pair.insidePositives() ? cfg.beta1[k] : cfg.beta2[k];
                        int n = Math.min(p.layout.tupleCount[pair.higher()], p.layout.tupleCount[pair.lower()]);
                        if (n == 0 || beta == 0) {
                            continue;
                        }
                        aux += rankingTerm(r, d, p.layout.tupleStart[pair.higher()], p.layout.tupleStart[pair.lower()], n, beta, wt);
                    }
                    terms.put("teacher." + task + ".aux", aux);
                    teacherLoss += aux;
                }
                int m = p.layout.marginalCount[k];
                if (m > 0) {
                    int start = p.layout.marginalStart[k];
                    double coarse = rankingTerm(r, d, start, start + m, m, 1.0, wt);
                    terms.put("teacher." + task + ".coarse", coarse);
                    teacherLoss += coarse;
                }
                if (variant == Variant.MUTUAL && cfg.alpha[k] > 0) {
                    // the teacher distils from its student: CE(sigmoid(r_S / tau), sigmoid(r~ / tau)), r_S and Omega constant
                    double tau = cfg.tau;
                    double scale = omega.param("calibration.P").getDouble(k);
                    double shift = omega.param("calibration.Q").getDouble(k);
                    final int taskIndex = k;
                    double[] soft = constantTarget(1, k, () -> softTargets(p.studentLogitsOnHost(taskIndex), tau));
                    double kd = 0;
                    for (int i = 0; i < b; i++) {
                        double z = (scale * r[i] + shift) / tau;
                        double e = Losses.expNegAbs(z);
                        kd += Losses.crossEntropyWithLogits(soft[i], z, e);
                        d[i] += (Losses.sigmoid(z, e) - soft[i]) * cfg.alpha[k] * scale * wt / (tau * b);
                    }
                    kd /= b;
                    terms.put("teacher." + task + ".mutual", kd);
                    teacherLoss += cfg.alpha[k] * kd;
                }
            }
            p.dTeacher[k] = d;
            total += wt * teacherLoss;
        }
        backward(p);
        return total;
    }

    /**
     * Adds {@code -beta * mean ln sigmoid(r[hi] - r[lo])} over {@code n} row pairs to the gradient
     * {@code d} (scaled by {@code weight}) and returns the unweighted term.
     */
    private static double rankingTerm(double[] r, double[] d, int hi, int lo, int n, double beta, double weight) {
        double loss = 0;
        for (int j = 0; j < n; j++) {
            double diff = r[hi + j] - r[lo + j];
            double e = Losses.expNegAbs(diff);
            loss += Losses.softplus(-diff, e);
            double g = -Losses.sigmoid(-diff, e) * beta * weight / n; // d/d(diff) of the term
            d[hi + j] += g;
            d[lo + j] -= g;
        }
        return beta * loss / n;
    }

    /** L_Cal; its gradients are written to the calibration parameters' gradients. */
    private double calibrationLossAndGradients(Pass p) {
        INDArray pGrad = omega.grad("calibration.P");
        INDArray qGrad = omega.grad("calibration.Q");
        double loss = 0;
        for (int k = 0; k < numTasks; k++) {
            int b = p.batch;
            double[] lg = Losses.plattLossAndGradient(p.teacherLogitsOnHost(k), p.labels[k], b,
                    omega.param("calibration.P").getDouble(k), omega.param("calibration.Q").getDouble(k));
            loss += lg[0];
            pGrad.putScalar(0, k, lg[1]);
            qGrad.putScalar(0, k, lg[2]);
        }
        return loss;
    }

    // ------------------------------------------------------------------------------------------
    // Backward pass: towers, routing, backbone, embeddings

    private void backward(Pass p) {
        theta.zeroGrad();
        boolean teachersOn = variant.hasTeachers();
        boolean teachersTrainShared = teachersOn && cfg.teacherRouting == TeacherRouting.SHARED;
        int sharedBackRows = teachersTrainShared ? p.sharedRows : p.batch;

        // each group's input gradient is the sum over its towers (one product with the fused weights)
        INDArray[] dStudentIn = new INDArray[studentGroups.size()];
        for (int g = 0; g < dStudentIn.length; g++) {
            HeadGroup group = studentGroups.get(g);
            dStudentIn[g] = group.net().backward(p.studentActs[g], logitGradients(LOGIT_GRADIENTS + g, group, p.dStudent, 0, p.batch), 0, p.batch, true);
        }
        INDArray[] dTeacherIn = new INDArray[teachersOn ? teacherGroups.size() : 0];
        for (int g = 0; g < dTeacherIn.length; g++) {
            HeadGroup group = teacherGroups.get(g);
            boolean needInput = cfg.teacherRouting != TeacherRouting.STOP;
            // without an input gradient, only the rows with a loss gradient (under the ranking losses, the samples)
            int from = needInput ? 0 : firstNonZeroRow(group, p.dTeacher, p.total);
            dTeacherIn[g] = group.net().backward(p.teacherActs[g], logitGradients(LOGIT_GRADIENTS + studentGroups.size() + g, group, p.dTeacher, from, p.total - from), from, p.total - from, needInput);
        }

        int embRows = cfg.teacherRouting == TeacherRouting.STOP || !teachersOn ? p.batch : p.total;
        INDArray dx0;
        if (bottom != null) {
            // a shared bottom has one student group and at most one teacher group (see the constructor)
            INDArray dShared = dStudentIn[0];
            if (teachersTrainShared) {
                dShared = dTeacherIn[0];
                Rows.first(dShared, p.batch).addi(dStudentIn[0]);
            }
            // with its ones column when the input had one (see forward)
            INDArray dBottomIn = bottom.backward(p.bottomActs, dShared, 0, sharedBackRows, true);
            if (sharedBackRows == embRows) {
                dx0 = dBottomIn;
            } else {
                dx0 = Nd4j.zeros(cfg.dtype, embRows, dBottomIn.columns());
                Rows.first(dx0, sharedBackRows).addi(dBottomIn);
            }
        } else {
            dx0 = Nd4j.zeros(cfg.dtype, embRows, inputSize);
            INDArray[] dExpert = new INDArray[experts.size()];
            for (int e = 0; e < dExpert.length; e++) {
                dExpert[e] = Nd4j.zeros(cfg.dtype, sharedBackRows, experts.get(e).outputSize());
            }
            // MMoE: one tower per group, each behind its own gate
            for (int g = 0; g < dStudentIn.length; g++) {
                int k = studentGroups.get(g).tasks()[0];
                gateBackward(p, k, studentName(k), dStudentIn[g], p.batch, dExpert, dx0);
            }
            for (int g = 0; teachersTrainShared && g < dTeacherIn.length; g++) {
                int k = teacherGroups.get(g).tasks()[0];
                gateBackward(p, numTasks + k, teacherName(k), dTeacherIn[g], p.total, dExpert, dx0);
            }
            for (int e = 0; e < dExpert.length; e++) {
                Rows.first(dx0, sharedBackRows).addi(experts.get(e).backward(p.expertActs.get(e), dExpert[e], 0, sharedBackRows, true));
            }
        }
        if (teacherBottom != null) {
            INDArray dSep = Nd4j.zeros(cfg.dtype, p.total, teacherBottom.outputSize());
            for (INDArray d : dTeacherIn) {
                dSep.addi(d);
            }
            dx0.addi(teacherBottom.backward(p.teacherBottomActs, dSep, 0, p.total, true));
        }

        // the embedding columns of dx0 in C order are the gradient rows, one per (event, field)
        INDArray dEmb = numDense == 0 ? dx0 : dx0.get(NDArrayIndex.all(), NDArrayIndex.interval(0, (long) numFields * cfg.embeddingDim));
        int[] used = java.util.Arrays.copyOf(p.indices, embRows * numFields);
        p.embeddingGradientFinite = p.x0WithOnes != null ? embeddings.accumulate(used, numFields, dEmb) : embeddings.accumulate(used, dEmb);
    }

    /** The first of the first {@code rows} rows where a task of {@code group} has a nonzero gradient ({@code rows - 1} if none has). */
    private static int firstNonZeroRow(HeadGroup group, double[][] perTask, int rows) {
        int first = rows - 1;
        for (int k : group.tasks()) {
            double[] d = perTask[k];
            for (int i = 0; i < first; i++) {
                if (d[i] != 0) {
                    first = i;
                    break;
                }
            }
        }
        return first;
    }

    /** MMoE backward through one tower's gate and mixture; accumulates expert and input gradients. */
    private void gateBackward(Pass p, int tower, String head, INDArray dMix, int rows, INDArray[] dExpert, INDArray dx0) {
        INDArray gate = p.gates[tower];
        INDArray dGate = Nd4j.create(cfg.dtype, rows, experts.size());
        for (int e = 0; e < experts.size(); e++) {
            INDArray out = Rows.first(p.expertActs.get(e).output(), rows);
            Rows.first(dExpert[e], rows).addi(dMix.mulColumnVector(gate.getColumn(e, true)));
            dGate.putColumn(e, dMix.mul(out).sum(true, 1));
        }
        // softmax backward: dz = g * (dg - sum(dg * g))
        INDArray dz = gate.mul(dGate.subColumnVector(dGate.mul(gate).sum(true, 1)));
        INDArray x = Rows.first(p.x0, rows);
        MatMul.into(x, true, dz, false, theta.grad("gate." + head + ".W"));
        dz.sum(theta.grad("gate." + head + ".b"), 0);
        Rows.first(dx0, rows).addi(MatMul.of(dz, false, theta.param("gate." + head + ".W"), true));
    }

    // ------------------------------------------------------------------------------------------
    // Parameters, state and checks

    /**
     * Every parameter by name: views of the dense parameters (changing them changes the model) and
     * a copy of the embedding table (change it through {@link #loadTensors}).
     */
    public Map<String, INDArray> tensors() {
        Map<String, INDArray> all = new LinkedHashMap<>();
        all.put(EMBEDDING, embeddings.table());
        all.putAll(theta.params());
        all.putAll(omega.params());
        return all;
    }

    /** The shape of every tensor of {@link #tensors()}, in the same order, without copying a value. */
    public Map<String, long[]> tensorShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBEDDING, new long[] {embeddings.rows(), embeddings.dim()});
        theta.params().forEach((name, p) -> shapes.put(name, p.shape()));
        omega.params().forEach((name, p) -> shapes.put(name, p.shape()));
        return shapes;
    }

    /**
     * Tensor {@code name}'s values in C order as floats into {@code out}: what {@link #tensors()}
     * holds, without the 4 MB copy of the embedding table it makes (a snapshot's build on the
     * trainer's thread).
     */
    public void putFloats(String name, java.nio.FloatBuffer out) {
        if (name.equals(EMBEDDING)) {
            embeddings.putFloats(out);
            return;
        }
        INDArray p = theta.params().containsKey(name) ? theta.params().get(name) : omega.params().get(name);
        if (p == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        HostArrays.putFloats(p, out);
    }

    /** Overwrites parameters from named tensors (for example a snapshot's); shapes must match. */
    public void loadTensors(Map<String, INDArray> values) {
        Map<String, INDArray> mine = tensors();
        for (Map.Entry<String, INDArray> e : mine.entrySet()) {
            INDArray v = values.get(e.getKey());
            if (v == null) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " is missing");
            }
            if (!java.util.Arrays.equals(v.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(v.shape())
                        + ", the model expects " + java.util.Arrays.toString(e.getValue().shape()));
            }
            if (e.getKey().equals(EMBEDDING)) {
                embeddings.assign(v);
            } else {
                e.getValue().assign(v);
            }
        }
    }

    /** True when every parameter is finite: a snapshot is only written then. */
    public boolean allFinite() {
        return theta.allFinite() && omega.allFinite() && embeddings.allFinite();
    }

    /** Parameters, optimizer state, calibration and step counts, exactly. */
    public byte[] toBytes() {
        return StateBytes.write(FORMAT, out -> {
            Map<String, String> c = cfg.toMap();
            out.writeInt(c.size());
            for (Map.Entry<String, String> e : c.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
            out.writeLong(steps);
            out.writeLong(skippedSteps);
            theta.write(out);
            omega.write(out);
            embeddings.write(out);
        });
    }

    public static CrossDistilModel fromBytes(byte[] data) {
        return StateBytes.read(data, FORMAT, "model state", in -> {
            int n = in.readInt();
            Map<String, String> c = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                c.put(in.readUTF(), in.readUTF());
            }
            CrossDistilModel m = new CrossDistilModel(ModelConfig.fromMap(c));
            m.steps = in.readLong();
            m.skippedSteps = in.readLong();
            m.theta.read(in);
            m.omega.read(in);
            m.embeddings.read(in);
            return m;
        });
    }

    // ---- package-private access for the gradient checks ----

    /** L_Model and its gradients (left in the parameter stores), without updating anything. */
    double modelLossForCheck(List<Example> batch, Samples samples) {
        Pass p = forward(batch, samples, true);
        return modelLossAndGradients(p, new LinkedHashMap<>());
    }

    /** L_Cal and its gradients (written to the calibration gradient views). */
    double calibrationLossForCheck(List<Example> batch) {
        Pass p = forward(batch, Samples.none(numTasks), true);
        return calibrationLossAndGradients(p);
    }

    /** From now on the first computed distillation targets are kept and reused. */
    void freezeTargetsForCheck() {
        frozenTargets = new double[2][numTasks][];
    }

    ParameterStore thetaForCheck() {
        return theta;
    }

    ParameterStore omegaForCheck() {
        return omega;
    }

    EmbeddingTable embeddingsForCheck() {
        return embeddings;
    }

    DataType dtype() {
        return cfg.dtype;
    }
}
