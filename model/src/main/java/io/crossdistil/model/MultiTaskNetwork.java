package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nd4j.KeptArrays;
import io.crossdistil.model.nd4j.Rows;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.Mlp;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.objective.StackedRows;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.state.SeededRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The network Theta: hashed field embeddings (one shared table, sparse row updates) and dense
 * features (standardised: {@link DenseInputs}), a shared-bottom or MMoE backbone, and per task a
 * student tower and (for variants with teachers) a teacher tower, each ending in one logit. The
 * teacher routing says where the teachers read from and where their gradients flow: the shared
 * backbone with gradients into it or stopped at it, or a teacher bottom of their own.
 *
 * <p><b>One pass per step.</b> The batch and the drawn samples are stacked into one matrix of
 * rows ({@link StackedRows}), so each layer is one matrix product for all of them. Towers that
 * read one input run as one network ({@link HeadGroup}): the students on a shared bottom, the
 * teachers on a shared bottom or their own; MMoE gives every tower its own mixture.
 */
final class MultiTaskNetwork {
    /**
     * Slots of the training pass's kept arrays: the embedding rows (with a ones column when the
     * shared bottom is their only reader, and the view without it), the shared bottom's input
     * rows with it, the students' rows of the shared output (without and with it), then each head
     * group's logit gradients (students' groups first).
     */
    private static final int EMBEDDINGS = 0;
    private static final int EMBEDDINGS_WITHOUT_ONES = 1;
    private static final int SHARED_INPUT_WITH_ONES = 2;
    private static final int STUDENT_INPUT = 3;
    private static final int STUDENT_INPUT_WITH_ONES = 4;
    private static final int LOGIT_GRADIENTS = 5;
    /** Salts the seed of the teachers' initial values. */
    private static final long TEACHER_STREAM = 0x7EAC4E25L;
    /** Salts the seed of the tower exchange's initial values. */
    private static final long EXCHANGE_STREAM = 0xE8C4A26EL;
    /** Salts the seed of a step's dropout masks. */
    private static final long DROPOUT_STREAM = 0xD50F0E7L;

    private final ModelConfig cfg;
    private final int numTasks;
    private final int numFields;
    private final int numDense;
    private final int inputSize;
    private final ParameterStore theta;
    private EmbeddingTable embeddings;
    private final DenseInputs denseInputs;
    private final KeptArrays kept;
    private final Mlp bottom;
    private final List<Mlp> experts = new ArrayList<>();
    /** MMoE: the towers' gates over the experts; null on a shared bottom. */
    private final ExpertGates gates;
    private final Mlp teacherBottom;
    private final List<HeadGroup> studentGroups = new ArrayList<>();
    private final List<HeadGroup> teacherGroups = new ArrayList<>();
    /** With the gate: per student a label-only twin (training only), in a store of its own so the rest is laid out as without; null without. */
    private final ParameterStore twinStore;
    private final List<HeadGroup> twinGroups = new ArrayList<>();
    /** The students' and the twins' towers with what they exchange (twins: null without the gate). */
    private final TowerSet students;
    private final TowerSet twinTowers;
    /** The training step the next training pass belongs to: it seeds the pass's dropout masks. */
    private long step;

    /**
     * Registers every layer's parameters; {@link #initialiseLayers} and {@link #initialiseEmbeddings}
     * give them values for training, {@link #studentsFrom} a snapshot's for serving.
     *
     * @param withTeachers whether the teacher towers (and a teacher bottom) are built, for a
     *     variant that has them; serving needs the students only
     */
    private MultiTaskNetwork(ModelConfig cfg, boolean withTeachers) {
        this.cfg = cfg;
        this.numTasks = cfg.numTasks();
        this.numFields = cfg.features.size();
        this.numDense = cfg.denseFeatures.size();
        this.inputSize = numFields * cfg.embeddingDim + numDense;
        denseInputs = new DenseInputs(cfg);
        Variant variant = cfg.variant;
        theta = new ParameterStore(cfg.dtype, cfg.optimizer.updater(cfg.learningRate, cfg));
        int towerInput;
        if (cfg.backbone == Backbone.SHARED_BOTTOM) {
            bottom = new Mlp(theta, "bottom", inputSize, cfg.bottomLayers(), false);
            towerInput = bottom.outputSize();
        } else {
            bottom = null;
            for (int e = 0; e < cfg.experts; e++) {
                experts.add(new Mlp(theta, "expert." + e, inputSize, cfg.expertLayers(), false));
            }
            towerInput = experts.get(0).outputSize();
        }
        gates = bottom == null ? new ExpertGates(theta, experts, cfg.dtype) : null;
        boolean teachers = withTeachers && variant.hasTeachers();
        boolean separate = teachers && cfg.teacherRouting == TeacherRouting.SEPARATE;
        teacherBottom = separate ? new Mlp(theta, "teacher-bottom", inputSize, cfg.bottomLayers(), false) : null;
        int[] towerSizes = Arrays.copyOf(cfg.towerLayers(), cfg.towerLayers().length + 1);
        towerSizes[towerSizes.length - 1] = 1;
        List<Integer> all = IntStream.range(0, numTasks).boxed().toList();
        if (cfg.backbone == Backbone.SHARED_BOTTOM && !cfg.towerExchange.mining()) {
            studentGroups.add(group("students", all, this::studentName, towerInput, towerSizes));
        } else {
            // one group per task: MMoE's towers and mined features' towers read inputs of their own
            for (int k = 0; k < numTasks; k++) {
                studentGroups.add(group("students", List.of(k), this::studentName, towerInput, towerSizes));
                if (cfg.backbone == Backbone.MMOE) {
                    ExpertGates.register(theta, studentName(k), inputSize, cfg.experts);
                }
            }
        }
        if (teachers) {
            int in = separate ? teacherBottom.outputSize() : towerInput;
            if (separate || cfg.backbone == Backbone.SHARED_BOTTOM) {
                teacherGroups.add(group("teachers", all, this::teacherName, in, towerSizes));
            } else {
                for (int k = 0; k < numTasks; k++) {
                    teacherGroups.add(group("teachers", List.of(k), this::teacherName, in, towerSizes));
                    ExpertGates.register(theta, teacherName(k), inputSize, cfg.experts);
                }
            }
        }
        // each twin reads what its student reads (MMoE: the student's mixture)
        twinStore = teachers && cfg.distillationGate ? new ParameterStore(cfg.dtype, cfg.optimizer.updater(cfg.learningRate, cfg)) : null;
        for (int g = 0; twinStore != null && g < studentGroups.size(); g++) {
            List<String> prefixes = Arrays.stream(studentGroups.get(g).tasks()).mapToObj(this::twinName).toList();
            Mlp net = Mlp.towers(twinStore, "twins", prefixes, towerInput, towerSizes, true);
            twinGroups.add(new HeadGroup(net, studentGroups.get(g).tasks()));
        }
        kept = new KeptArrays(LOGIT_GRADIENTS + studentGroups.size() + teacherGroups.size() + twinGroups.size());
        // registered last, so that every other initial value is what it is without them
        students = TowerSet.of(cfg, theta, "student", studentGroups, towerInput);
        twinTowers = twinStore == null ? null : TowerSet.of(cfg, twinStore, "twin", twinGroups, towerInput);
    }

    /** Sets the training step of the next training passes (their dropout masks follow from it and the seed). */
    void beginStep(long step) {
        this.step = step;
    }

    /** For gradient checks: the tower exchange's stopped inputs held constant from the next pass on (see TowerSet). */
    void holdStoppedInputs(boolean on) {
        students.holdStoppedInputs(on);
        if (twinTowers != null) {
            twinTowers.holdStoppedInputs(on);
        }
    }

    private SeededRandom dropoutRandom() {
        return new SeededRandom(cfg.seed ^ DROPOUT_STREAM ^ (step * 0x9E3779B97F4A7C15L));
    }

    /** The whole network, to train: its values still to be drawn. */
    static MultiTaskNetwork forTraining(ModelConfig cfg) {
        return new MultiTaskNetwork(cfg, true);
    }

    /**
     * The students alone, with the values of {@code tensors} (by parameter name, as
     * {@code CrossDistilModel.tensors()} names them; others are ignored): no teachers, no
     * gradients or optimizer state, no random draws. It predicts what the whole network predicts
     * with the same values.
     */
    static MultiTaskNetwork studentsFrom(ModelConfig cfg, Map<String, INDArray> tensors, String embeddingName) {
        MultiTaskNetwork n = new MultiTaskNetwork(cfg, false);
        n.theta.buildFrozen();
        for (Map.Entry<String, INDArray> e : n.theta.params().entrySet()) {
            e.getValue().assign(required(tensors, e.getKey(), e.getValue().shape()));
        }
        INDArray table = required(tensors, embeddingName, new long[] {cfg.hashRows, cfg.embeddingDim});
        n.denseInputs.load(tensors);
        n.embeddings = EmbeddingTable.frozen(table, cfg.dtype);
        return n;
    }

    static INDArray required(Map<String, INDArray> tensors, String name, long[] shape) {
        INDArray v = tensors.get(name);
        if (v == null) {
            throw new IllegalArgumentException("tensor " + name + " is missing");
        }
        if (!Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(v.shape())
                    + ", the model expects " + Arrays.toString(shape));
        }
        return v;
    }

    /**
     * Draws the dense layers' initial values; the teachers' (towers, bottom, gates) and the tower
     * exchange's from streams of their own, so that every other value is what it is without them:
     * a student that does not distil trains exactly as the multi-task baseline's.
     */
    void initialiseLayers(SeededRandom random) {
        SeededRandom teachers = new SeededRandom(cfg.seed ^ TEACHER_STREAM);
        SeededRandom exchange = new SeededRandom(cfg.seed ^ EXCHANGE_STREAM);
        theta.build(name -> name.startsWith("teacher") || name.startsWith("gate.teacher") ? teachers
                : name.startsWith("student.ctfm.") || name.startsWith("student.gkd.") ? exchange : random);
    }

    /** Gives each label-only twin its student's initial values (after {@link #initialiseLayers}); no draws. */
    void initialiseTwins() {
        if (twinStore != null) {
            twinStore.build(new SeededRandom(0)); // every value is overwritten next
            copyStudentsToTwins();
        }
    }

    /** Sets each twin's values to its student's current ones (a state from before the twins starts them there). */
    void copyStudentsToTwins() {
        for (Map.Entry<String, INDArray> e : twinStore.params().entrySet()) {
            e.getValue().assign(theta.param("student." + e.getKey().substring("twin.".length())));
        }
    }

    /** Sets task k's student tower to its twin, values and optimizer state: it then learns as its twin (mtl's student) does. */
    void copyTwinToStudent(int k) {
        for (String twin : twinStore.params().keySet()) {
            if (twin.startsWith(twinName(k) + ".")) {
                theta.copyFrom(twinStore, twin, "student." + twin.substring("twin.".length()));
            }
        }
    }

    /** The label-only twins' parameters, or null without the gate. */
    ParameterStore twins() {
        return twinStore;
    }

    /** Draws the embedding table's initial values. */
    void initialiseEmbeddings(SeededRandom random) {
        embeddings = new EmbeddingTable(cfg.hashRows, cfg.embeddingDim, cfg.dtype,
                cfg.optimizer.updater(cfg.learningRate, cfg), random, 0.05);
    }

    private HeadGroup group(String block, List<Integer> tasks, IntFunction<String> name, int in, int[] sizes) {
        List<String> prefixes = tasks.stream().map(name::apply).toList();
        Mlp net = Mlp.towers(theta, block, prefixes, in, sizes, true);
        return new HeadGroup(net, tasks.stream().mapToInt(Integer::intValue).toArray());
    }

    private String studentName(int k) {
        return "student." + cfg.tasks.get(k);
    }

    private String teacherName(int k) {
        return "teacher." + cfg.tasks.get(k);
    }

    private String twinName(int k) {
        return "twin." + cfg.tasks.get(k);
    }

    /** The dense parameters Theta, with their gradients and optimizer state. */
    ParameterStore parameters() {
        return theta;
    }

    EmbeddingTable embeddings() {
        return embeddings;
    }

    DenseInputs denseInputs() {
        return denseInputs;
    }

    private boolean teachersReadSharedBackbone() {
        return cfg.variant.hasTeachers() && cfg.teacherRouting != TeacherRouting.SEPARATE;
    }

    // ------------------------------------------------------------------------------------------
    // Forward

    /**
     * A training pass computes the teachers too and writes into the networks' kept arrays (one
     * thread); a prediction pass only the students, in new arrays.
     */
    ForwardPass forward(List<Example> batch, Samples samples, boolean training) {
        ForwardPass p = new ForwardPass(new StackedRows(batch.size(), samples), numTasks, studentGroups, teacherGroups,
                training ? twinGroups : List.of());
        boolean teachersOn = training && cfg.variant.hasTeachers();

        p.indices = new int[p.total * numFields];
        for (int i = 0; i < p.batch; i++) {
            System.arraycopy(batch.get(i).rows, 0, p.indices, i * numFields, numFields);
        }
        System.arraycopy(samples.rows(), 0, p.indices, p.batch * numFields, samples.rowCount() * numFields);
        double[] dense = denseInputs.inputs(batch, samples);
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
        INDArray[] towerIn = new INDArray[studentGroups.size()];
        INDArray[] inWithOnes = new INDArray[towerIn.length];
        for (int g = 0; g < towerIn.length; g++) {
            int k = studentGroups.get(g).tasks()[0];
            towerIn[g] = shared == null ? gates.mixture(p, k, studentName(k), p.batch)
                    : training ? kept.rows(STUDENT_INPUT, shared, 0, p.batch) : Rows.first(shared, p.batch);
            inWithOnes[g] = sharedWithOnes == null ? null : kept.rows(STUDENT_INPUT_WITH_ONES, sharedWithOnes, 0, p.batch);
        }
        p.studentExchange = students.forward(towerIn, inWithOnes, training, training ? dropoutRandom() : null, p.studentActs);
        if (training && twinTowers != null) {
            // the same masks as the students': a twin is what a student without distillation would be
            p.twinExchange = twinTowers.forward(towerIn, inWithOnes, true, dropoutRandom(), p.twinActs);
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
                        : shared != null ? shared : gates.mixture(p, numTasks + k, teacherName(k), p.total);
                p.teacherActs[g] = teacherGroups.get(g).net().forward(in, separateOut == null ? sharedWithOnes : null, training, false);
            }
        }
        return p;
    }

    // ------------------------------------------------------------------------------------------
    // Backward: towers, routing, backbone, embeddings

    /**
     * Writes the gradients of Theta and of the embedding rows used, from the losses' logit
     * gradients in {@code p.dStudent} and {@code p.dTeacher}.
     */
    void backward(ForwardPass p) {
        theta.zeroGrad();
        boolean teachersOn = cfg.variant.hasTeachers();
        boolean teachersTrainShared = teachersOn && cfg.teacherRouting == TeacherRouting.SHARED;
        int sharedBackRows = teachersTrainShared ? p.sharedRows : p.batch;

        // each group's input gradient is the sum over its towers (one product with the fused weights);
        // with label-only twins the backbone learns from theirs and the students' stops at their towers
        boolean twins = twinStore != null;
        INDArray[] dStudentIn = students.backward(p.studentActs, p.studentExchange,
                g -> studentGroups.get(g).logitGradients(p.dStudent, 0, p.batch, kept, LOGIT_GRADIENTS + g, cfg.dtype), p.batch, !twins);
        if (twins) {
            twinStore.zeroGrad();
            int slot = LOGIT_GRADIENTS + studentGroups.size() + teacherGroups.size();
            dStudentIn = twinTowers.backward(p.twinActs, p.twinExchange,
                    g -> twinGroups.get(g).logitGradients(p.dTwin, 0, p.batch, kept, slot + g, cfg.dtype), p.batch, true);
        }
        INDArray[] dTeacherIn = new INDArray[teachersOn ? teacherGroups.size() : 0];
        for (int g = 0; g < dTeacherIn.length; g++) {
            HeadGroup group = teacherGroups.get(g);
            boolean needInput = cfg.teacherRouting != TeacherRouting.STOP;
            // without an input gradient, only the rows with a loss gradient (under the ranking losses, the samples)
            int from = needInput ? 0 : group.firstNonZeroRow(p.dTeacher, p.total);
            dTeacherIn[g] = group.net().backward(p.teacherActs[g], group.logitGradients(p.dTeacher, from, p.total - from, kept, LOGIT_GRADIENTS + studentGroups.size() + g, cfg.dtype), from, p.total - from, needInput);
        }

        int embRows = cfg.teacherRouting == TeacherRouting.STOP || !teachersOn ? p.batch : p.total;
        INDArray dx0;
        if (bottom != null) {
            // a shared bottom has at most one teacher group (see the constructor)
            INDArray dShared = TowerSet.inputGradientWithOnes(dStudentIn, p.batch, bottom.outputSize());
            if (teachersTrainShared) {
                Rows.first(dTeacherIn[0], p.batch).addi(dShared);
                dShared = dTeacherIn[0];
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
                gates.backward(p, k, studentName(k), dStudentIn[g], p.batch, dExpert, dx0);
            }
            for (int g = 0; teachersTrainShared && g < dTeacherIn.length; g++) {
                int k = teacherGroups.get(g).tasks()[0];
                gates.backward(p, numTasks + k, teacherName(k), dTeacherIn[g], p.total, dExpert, dx0);
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
        int[] used = Arrays.copyOf(p.indices, embRows * numFields);
        p.embeddingGradientFinite = p.x0WithOnes != null ? embeddings.accumulate(used, numFields, dEmb) : embeddings.accumulate(used, dEmb);
    }
}
