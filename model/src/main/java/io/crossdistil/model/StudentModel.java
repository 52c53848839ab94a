package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.sampling.Samples;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What serving runs: the backbone, the student towers and the output calibration of a trained
 * model, with its values, and nothing else (no teachers, their calibration, gradients or
 * optimizer state). It predicts exactly what {@link CrossDistilModel#predict} predicts with the
 * same values for the same batch. Predictions make new arrays, so one instance may score on
 * several threads.
 */
public final class StudentModel {
    private final ModelConfig cfg;
    private final MultiTaskNetwork network;
    /** The output calibration's scale and shift per task, or null (off, or a snapshot from before it). */
    private final double[] scale;
    private final double[] shift;

    private StudentModel(ModelConfig cfg, MultiTaskNetwork network, double[] scale, double[] shift) {
        this.cfg = cfg;
        this.network = network;
        this.scale = scale;
        this.shift = shift;
    }

    /**
     * The students of a model with configuration {@code cfg} and the parameters {@code tensors},
     * named as {@link CrossDistilModel#tensors()} names them (a snapshot's tensors); tensors the
     * students do not use are ignored.
     *
     * @throws IllegalArgumentException naming a tensor that is missing or of the wrong shape
     */
    public static StudentModel of(ModelConfig cfg, Map<String, INDArray> tensors) {
        MultiTaskNetwork network = MultiTaskNetwork.studentsFrom(cfg, tensors, CrossDistilModel.EMBEDDING);
        INDArray scale = tensors.get(CrossDistilModel.OUTPUT + ".P");
        INDArray shift = tensors.get(CrossDistilModel.OUTPUT + ".Q");
        if (!cfg.outputCalibration || scale == null || shift == null) {
            return new StudentModel(cfg, network, null, null);
        }
        if (scale.length() != cfg.numTasks() || shift.length() != cfg.numTasks()) {
            throw new IllegalArgumentException("tensors " + CrossDistilModel.OUTPUT + ".P and .Q need one value per task ("
                    + cfg.numTasks() + "), not " + scale.length() + " and " + shift.length());
        }
        return new StudentModel(cfg, network, scale.toDoubleVector(), shift.toDoubleVector());
    }

    public ModelConfig config() {
        return cfg;
    }

    /** The students' calibrated probabilities, [events][tasks], tasks in the configuration's order. */
    public double[][] predict(List<Example> events) {
        ForwardPass p = network.forward(events, Samples.none(cfg.numTasks()), false);
        return scale == null ? p.predictions() : p.predictions(scale, shift);
    }

    /** What the model has seen of each dense field, in configuration order; empty when it scales none. */
    public List<DenseStatistics> denseStatistics() {
        return network.denseInputs().describe(cfg.denseFeatures);
    }
}
