package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.nd4j.StepWorkspace;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.objective.DistillationGate;
import io.crossdistil.model.objective.RankingTeacherObjective;
import io.crossdistil.model.objective.RegressionTeacherObjective;
import io.crossdistil.model.objective.StudentObjective;
import io.crossdistil.model.objective.StudentToTeacherDistillation;
import io.crossdistil.model.objective.TeacherObjective;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.state.SeededRandom;
import io.crossdistil.model.state.StateBytes;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The multi-task model of docs/algorithm.md: a {@link MultiTaskNetwork} (embeddings, backbone, K
 * regression students and K teachers), its objectives (one per student and per teacher, in
 * {@code io.crossdistil.model.objective}), the teachers' {@link Calibration}, and one
 * synchronous training step over a mini-batch and reservoir samples.
 *
 * <p><b>Normalisation.</b> Every loss term is a mean over its samples (batch events, tuples or
 * pairs), so the step size does not depend on how many samples a step draws.
 *
 * <p><b>Calibration</b> trains on the pre-step teacher logits, the ones distilled in that step.
 * Deterministic: the same configuration (seed) and the same inputs give the same bits.
 */
public final class CrossDistilModel {
    /**
     * 5: the dense inputs' statistics follow (4: without them; 3: without the served average, which
     * starts afresh; 2: without the gate's evidence, which starts empty; 1: without the output calibration).
     */
    private static final int FORMAT = 5;
    /** The name of the embedding table among the tensors. */
    static final String EMBEDDING = "embedding";
    /** The prefix of the output calibration's tensors among the tensors. */
    static final String OUTPUT = "output";

    private final ModelConfig cfg;
    private final Variant variant;
    private final int numTasks;
    private final MultiTaskNetwork network;
    private final Calibration calibration;
    /** Platt scaling of the students' logits: what serving returns. Null when switched off. */
    private final Calibration output;
    private final StudentObjective[] students;
    /** Per task, the loss of the student's label-only twin (see DistillationGate); null without the gate. */
    private final StudentObjective[] twins;
    /** Per task, null for a variant without teachers. */
    private final TeacherObjective[] teachers;
    /** Per task, null unless teachers also distil from their students. */
    private final StudentToTeacherDistillation[] studentToTeacher;
    /** Per-task shares of alpha from the evidence; null when the gate is off or nothing distils. */
    private DistillationGate gate;
    /** True when data-parallel replicas end steps (shut students, the served average) at each merge (not state: the replica sets it). */
    private boolean stepsEndAtMerge;
    /** The online and the frozen teachers' targets, and the gate's evidence. */
    private final TeacherEnsemble ensemble;
    /** The parameters snapshots carry, averaged over the recent stream; null when they carry the last step's. */
    private final ServedAverage average;

    private long steps;
    private long skippedSteps;

    /** A model without frozen teachers (one that predicts, or has none configured). */
    public CrossDistilModel(ModelConfig cfg) {
        this(cfg, List.of());
    }

    /**
     * @param frozenTeachers the students of earlier snapshots, already checked against {@code cfg}
     *     (see {@code FrozenTeachers.load}); with them the gate opens at once, as they are trained
     */
    public CrossDistilModel(ModelConfig cfg, List<StudentModel> frozenTeachers) {
        this.cfg = cfg;
        this.variant = cfg.variant;
        this.numTasks = cfg.numTasks();
        network = MultiTaskNetwork.forTraining(cfg);
        // initial values are drawn in this order, the one every checkpoint was written with
        SeededRandom random = new SeededRandom(cfg.seed);
        network.initialiseLayers(random);
        calibration = new Calibration(cfg, "calibration", cfg.calibrationLearningRate, false, random);
        network.initialiseEmbeddings(random);
        output = cfg.outputCalibration ? new Calibration(cfg, OUTPUT, cfg.outputCalibrationLearningRate, true, random) : null;
        ensemble = new TeacherEnsemble(cfg, calibration, output, frozenTeachers);
        gate = cfg.distillationGate && variant.distils()
                ? new DistillationGate(numTasks, cfg.gateWindowEvents, cfg.gateTolerance, cfg.gateLogLossTolerance, cfg.gateAdaptEvents,
                        ensemble.size(), ensemble.hasFrozenTeachers() ? 1 : 0) : null;
        network.initialiseTwins();
        average = cfg.snapshotAverageEvents == 0 ? null : new ServedAverage(cfg.snapshotAverageEvents,
                ServedAverage.served(network.parameters(), calibration, output), network.embeddings(), cfg.dtype);

        students = new StudentObjective[numTasks];
        twins = new StudentObjective[numTasks];
        teachers = new TeacherObjective[numTasks];
        studentToTeacher = new StudentToTeacherDistillation[numTasks];
        for (int k = 0; k < numTasks; k++) {
            String task = cfg.tasks.get(k);
            double alpha = variant.distils() ? cfg.alpha(k) : 0.0;
            students[k] = new StudentObjective("student." + task, alpha, cfg.studentWeight(k), cfg.tau, cfg.oneSidedDistillation);
            // the twin is the baseline's student: its loss is the student's without distillation, same weight
            twins[k] = gate == null ? null : new StudentObjective("twin." + task, 0, cfg.studentWeight(k), cfg.tau);
            if (variant.teachersByRegression()) {
                teachers[k] = new RegressionTeacherObjective(task, cfg.teacherWeight(k));
            } else if (variant.ranksTeachers()) {
                teachers[k] = new RankingTeacherObjective(task, k, numTasks, variant.auxiliaryRanking(), cfg.beta1(k), cfg.beta2(k),
                        cfg.teacherWeight(k));
            }
            if (variant.teachersDistilFromStudents()) {
                studentToTeacher[k] = new StudentToTeacherDistillation(task, cfg.alpha(k), cfg.teacherWeight(k), cfg.tau);
            }
        }
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

    // ---- Learn and predict ----

    /**
     * One synchronous step: scores the batch with the current model, takes one Theta step on
     * L_Model over the batch and the samples, and one Omega step on L_Cal. Offering the batch to
     * the reservoirs is the caller's (it owns the sampler).
     */
    public StepResult step(List<Example> batch, Samples samples) {
        try (MemoryWorkspace ws = StepWorkspace.open()) {
            return stepInWorkspace(batch, samples);
        }
    }

    private StepResult stepInWorkspace(List<Example> batch, Samples samples) {
        // the frozen teachers first, so that no other network runs between this pass and its backward
        double[][][] frozen = ensemble.frozenPredictions(batch);
        network.beginStep(steps);
        ForwardPass pass = network.forward(batch, samples, true);
        if (gate != null) {
            ensemble.observe(gate, pass, batch, frozen, ramp());
        }
        Map<String, Double> terms = new LinkedHashMap<>();
        double modelLoss = modelLossAndGradients(pass, terms, new SoftTargets(numTasks), frozen);
        double calLoss = 0;
        if (variant.calibrates()) {
            calLoss = calibration.lossAndGradients(pass::teacherLogitsOnHost, pass.labels, pass.batch);
            terms.put("calibration", calLoss);
        }
        double[][] scores = pass.predictions();
        double[][] predictions = output == null ? scores : served(pass);
        double outputLoss = 0;
        if (output != null) {
            outputLoss = output.lossAndGradients(pass::studentLogitsOnHost, pass.labels, pass.batch);
            terms.put("output-calibration", outputLoss);
        }
        ParameterStore theta = network.parameters();
        ParameterStore twinStore = network.twins();
        boolean finite = Double.isFinite(modelLoss) && Double.isFinite(calLoss) && Double.isFinite(outputLoss)
                && theta.gradientsFinite() && pass.embeddingGradientFinite && (twinStore == null || twinStore.gradientsFinite());
        if (!finite) {
            skippedSteps++;
            return new StepResult(predictions, scores, modelLoss, calLoss, true, terms);
        }
        int iteration = (int) Math.min(Integer.MAX_VALUE, steps);
        theta.applyUpdate(iteration);
        network.embeddings().applyUpdate(iteration);
        if (variant.calibrates()) {
            calibration.applyUpdate(iteration);
        }
        if (output != null) {
            output.applyUpdate(iteration);
        }
        if (twinStore != null) {
            twinStore.applyUpdate(iteration);
        }
        steps++;
        network.denseInputs().add(batch);
        if (!stepsEndAtMerge) {
            afterStep(pass.batch);
        }
        return new StepResult(predictions, scores, modelLoss, calLoss, false, terms);
    }

    /** After a step, or a merge of replicas' steps, of {@code events} events: shut students reset, then the served average updated. */
    public void afterStep(long events) {
        resetShutStudents();
        if (average != null) {
            average.afterEvents(events);
        }
    }

    /** Embedding row {@code r} is about to be set by a merge (parallel.ReplicaSync); it has held {@code values} (values first) since it last changed. */
    public void beforeRowMerged(int r, double[] values) {
        if (average != null) {
            average.beforeRowChanges(r, values, 0);
        }
    }

    /**
     * Every student whose distillation limit is 0 becomes its label-only twin again (values and
     * optimizer state): a shut gate then means the multi-task baseline's student exactly, not one
     * that keeps what earlier distillation moved (docs/algorithm.md, "The distillation gate").
     */
    public void resetShutStudents() {
        if (gate == null || !cfg.gateResetStudents) {
            return;
        }
        for (int k = 0; k < numTasks; k++) {
            if (gate.limit(k) == 0) {
                network.copyTwinToStudent(k);
            }
        }
    }

    /** Leaves {@link #afterStep} and the embedding table's updates to the caller (parallel.ReplicaSync, after each merge). */
    public void endStepsAtMerge() {
        stepsEndAtMerge = true;
        network.embeddings().beforeEachUpdate(null);
    }

    /** The students' calibrated probabilities, [events][tasks]: what serving returns. */
    public double[][] predict(List<Example> events) {
        return served(network.forward(events, Samples.none(numTasks), false));
    }

    /** The students' probabilities through the output calibration, if on. */
    private double[][] served(ForwardPass p) {
        return output == null ? p.predictions() : p.predictions(output.scales(), output.shifts());
    }

    /** L_Model = sum over tasks of w_S L_Stu + w_T L_T; leaves the logit gradients in the pass and runs the network's backward pass. */
    private double modelLossAndGradients(ForwardPass p, Map<String, Double> terms, SoftTargets targets, double[][][] frozen) {
        double total = 0;
        int b = p.batch;
        for (int k = 0; k < numTasks; k++) {
            StudentObjective student = students[k];
            double[] d = new double[b];
            double[] probability = new double[b];
            p.studentProbabilities[k] = probability;
            final int task = k;
            double[] soft = student.distils()
                    ? targets.forStudent(k, () -> ensemble.softTargets(p, task, frozen, student.tau(), gate)) : null;
            total += student.lossAndGradient(p.studentLogitsOnHost(k), p.labels[k], soft, distillationShare(k), d, probability, terms);
            p.dStudent[k] = d;
            if (twins[k] != null) {
                double[] dTwin = new double[b];
                total += twins[k].lossAndGradient(p.twinLogitsOnHost(k), p.labels[k], null, 0, dTwin, new double[b], terms);
                p.dTwin[k] = dTwin;
            }
        }
        for (int k = 0; k < numTasks && variant.hasTeachers(); k++) {
            double[] r = p.teacherLogitsOnHost(k);
            double[] d = new double[p.total];
            double teacherLoss = teachers[k].lossAndGradient(r, p.labels[k], p.rows, d, terms);
            StudentToTeacherDistillation reverse = studentToTeacher[k];
            if (reverse != null && reverse.active()) {
                final int task = k;
                double[] soft = targets.forTeacher(k, () -> StudentObjective.softTargets(p.studentLogitsOnHost(task), reverse.tau()));
                teacherLoss += reverse.lossAndGradient(r, soft, b, calibration.scale(k), calibration.shift(k), d, terms);
            }
            p.dTeacher[k] = d;
            total += cfg.teacherWeight(k) * teacherLoss;
        }
        network.backward(p);
        return total;
    }

    /** The part of task k's alpha in force this step: the gate's share, else the ramp. */
    private double distillationShare(int k) {
        return gate != null ? gate.share(k) : ramp();
    }

    /** 0 to 1 over the first distillation-ramp-events events (a curriculum: labels first, while the teachers are poor), else 1. */
    private double ramp() {
        return cfg.distillationRampEvents == 0 ? 1.0 : Math.min(1.0, (double) steps * cfg.batchSize / cfg.distillationRampEvents);
    }

    /** The gate, for reports; null when off. */
    public DistillationGate gate() {
        return gate;
    }

    // ---- Parameters and state ----

    /**
     * Every parameter by name: views of the dense parameters (changing them changes the model) and
     * a copy of the embedding table (change it through {@link #loadTensors}).
     */
    public Map<String, INDArray> tensors() {
        return namedTensors().all();
    }

    /** The shape of every tensor of {@link #tensors()}, in the same order, without copying a value. */
    public Map<String, long[]> tensorShapes() {
        return namedTensors().shapes();
    }

    /** Tensor {@code name} as snapshots carry it (averaged, see ServedAverage), in C order as floats into {@code out}. */
    public void putFloats(String name, FloatBuffer out) {
        namedTensors().putFloats(name, out);
    }

    /** Overwrites parameters from named tensors (for example a snapshot's); shapes must match. */
    public void loadTensors(Map<String, INDArray> values) {
        namedTensors().load(values);
    }

    /** A warm start from an earlier run's tensors: loads those they hold (the twins start as the students) and returns the names of the rest. */
    public List<String> warmStart(Map<String, INDArray> values) {
        List<String> absent = namedTensors().loadAvailable(values);
        if (network.twins() != null) {
            network.copyStudentsToTwins();
        }
        return absent;
    }

    private NamedTensors namedTensors() {
        return new NamedTensors(network.embeddings(), network.parameters(), calibration, output, average, network.denseInputs());
    }

    /** Everything this model learns, as replicas of it exchange it (parallel.ReplicaSync). */
    public LearnedState learnedState() {
        List<ParameterStore> stores = new java.util.ArrayList<>(List.of(network.parameters()));
        if (network.twins() != null) {
            stores.add(network.twins());
        }
        stores.add(calibration.parameters());
        if (output != null) {
            stores.add(output.parameters());
        }
        return new LearnedState(stores, network.embeddings(), network.denseInputs().sums());
    }

    /** True when every parameter is finite: a snapshot is only written then. */
    public boolean allFinite() {
        return network.parameters().allFinite() && calibration.allFinite() && network.embeddings().allFinite()
                && (output == null || output.allFinite());
    }

    /** Parameters, optimizer state, calibration and step counts, exactly. */
    public byte[] toBytes() {
        return StateBytes.write(FORMAT, out -> {
            cfg.write(out);
            out.writeLong(steps);
            out.writeLong(skippedSteps);
            network.parameters().write(out);
            calibration.write(out);
            network.embeddings().write(out);
            if (output != null) {
                output.write(out);
            }
            if (gate != null) {
                gate.write(out);
                network.twins().write(out);
            }
            if (average != null) {
                average.write(out);
            }
            network.denseInputs().write(out);
        });
    }

    public static CrossDistilModel fromBytes(byte[] data) {
        return fromBytes(data, cfg -> List.of());
    }

    /** @param frozenTeachers the frozen teachers of the state's configuration (they are not part of the state) */
    public static CrossDistilModel fromBytes(byte[] data, java.util.function.Function<ModelConfig, List<StudentModel>> frozenTeachers) {
        return StateBytes.read(data, 1, FORMAT, "model state", (format, in) -> {
            ModelConfig cfg = ModelConfig.read(in);
            CrossDistilModel m = new CrossDistilModel(cfg, frozenTeachers.apply(cfg));
            m.steps = in.readLong();
            m.skippedSteps = in.readLong();
            m.network.parameters().read(in);
            m.calibration.read(in);
            m.network.embeddings().read(in);
            if (format >= 2 && m.output != null) {
                m.output.read(in);
            }
            if (format >= 3 && m.gate != null) {
                m.gate = DistillationGate.read(in, m.numTasks, m.cfg.gateTolerance, m.cfg.gateLogLossTolerance, m.cfg.gateAdaptEvents);
                m.network.twins().read(in);
            } else if (m.gate != null) {
                // a state from before the gate: the twins start as the students are, the gate without evidence
                m.network.copyStudentsToTwins();
            }
            if (m.average != null && format >= 4) {
                m.average.read(in);
            } // an older state's average starts afresh, as constructed
            if (format >= 5) {
                m.network.denseInputs().read(in);
            } // an older state's configuration scales nothing (ModelConfig.fromStored)
            return m;
        });
    }

    // ---- package-private access for the gradient checks ----

    /**
     * L_Model and its gradients (left in the parameter stores), without updating anything; the
     * soft targets are taken from {@code targets}, worked out there on the first call.
     */
    double modelLossForCheck(List<Example> batch, Samples samples, SoftTargets targets) {
        double[][][] frozen = ensemble.frozenPredictions(batch);
        ForwardPass p = network.forward(batch, samples, true);
        return modelLossAndGradients(p, new LinkedHashMap<>(), targets, frozen);
    }

    /** L_Cal and its gradients (written to the calibration gradient views). */
    double calibrationLossForCheck(List<Example> batch) {
        ForwardPass p = network.forward(batch, Samples.none(numTasks), true);
        return calibration.lossAndGradients(p::teacherLogitsOnHost, p.labels, p.batch);
    }

    /** The output calibration's loss and gradients on a batch (written to its gradient views). */
    double outputCalibrationLossForCheck(List<Example> batch) {
        ForwardPass p = network.forward(batch, Samples.none(numTasks), true);
        return output.lossAndGradients(p::studentLogitsOnHost, p.labels, p.batch);
    }

    /** The tower exchange's stopped inputs held constant from the next pass on, or released. */
    void holdStoppedInputsForCheck(boolean on) {
        network.holdStoppedInputs(on);
    }

    /** The parameter stores and the table that the gradient checks perturb. */
    record Parts(ParameterStore theta, ParameterStore twins, ParameterStore omega, ParameterStore output, EmbeddingTable embeddings) {}

    Parts partsForCheck() {
        return new Parts(network.parameters(), network.twins(), calibration.parameters(), output == null ? null : output.parameters(),
                network.embeddings());
    }
}
